"""Integrations that carry a run across processes: Celery, Kafka and gRPC.

Each lives in its own module, imported only by applications that use it (``penstock.contrib.
celery`` needs the ``celery`` extra, ``penstock.contrib.grpc`` the ``grpc`` extra;
``penstock.contrib.kafka`` needs no client library of its own). All of them move the context
through `penstock.propagation`.
"""
