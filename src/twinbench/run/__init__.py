"""Running a measurement: servers, the mock upstream and Locust as managed child processes,
sampling, and turning each Locust phase into stored cell records."""
