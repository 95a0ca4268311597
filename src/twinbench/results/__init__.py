"""What a run stores: the records (frozen dataclasses), metric names, the JSON codec, the
results folder (store), and upgrades of older results on read."""
