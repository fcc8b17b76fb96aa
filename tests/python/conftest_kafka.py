"""Kafka fixtures for every pytest suite of tests/python: conftest.py does
`from conftest_kafka import *` to make them available (kafka_fixtures.py)."""
from kafka_fixtures import lakestream_bin, mock_broker, real_kafka  # noqa: F401

__all__ = ["lakestream_bin", "mock_broker", "real_kafka"]
