"""Local-development tools, not shipped in the wheel: the local Kafka broker launcher, the sample
feed generator and the FoodNow event producer (used by ``make run``, the tests and ``bench/``)."""
