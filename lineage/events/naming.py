"""Dataset names by the OpenLineage naming spec, and the key the metadata store files them under.

The spec (https://openlineage.io/docs/spec/naming) names a dataset by where it is stored:

==================  =======================  ======================
location            namespace                name
==================  =======================  ======================
``/data/x``         ``file``                 ``/data/x``
``file:///data/x``  ``file``                 ``/data/x``
``file://host/x``   ``file://host``          ``/x``
``s3a://b/k/x``     ``s3://b``               ``k/x``
``gs://b/k``        ``gs://b``               ``k``
``hdfs://nn:8020/x``  ``hdfs://nn:8020``     ``/x``
==================  =======================  ======================

A catalog table (``bronze.orders``) is not a second dataset: it is a symlink facet on the dataset
named by its storage location (see :func:`lineage.events.run_events.run_event`).
"""

from __future__ import annotations

import os
import posixpath
from urllib.parse import unquote, urlsplit

from lineage.errors import InvalidLocationError

LOCAL_NAMESPACE = "file"
_S3_SCHEMES = frozenset({"s3", "s3a", "s3n"})
_BUCKET_SCHEMES = _S3_SCHEMES | {"gs"}
_AUTHORITY_SCHEMES = frozenset({"hdfs", "abfss", "wasbs"})


def dataset_id(location: str) -> tuple[str, str]:
    """The OpenLineage ``(namespace, name)`` of a storage location.

    ``location`` is a local path (made absolute against the working directory), a ``file:`` URI,
    or an ``s3a://``/``s3://``/``gs://``/``hdfs://``/``abfss://`` URI. Trailing slashes are dropped
    so a folder and ``folder/`` name the same dataset.
    Raises :class:`InvalidLocationError` for an empty location or an unsupported scheme.
    """
    if not location or not location.strip():
        raise InvalidLocationError(
            "dataset location is empty: pass a path such as /data/landing/orders or a URI such as "
            "s3a://bucket/lake/bronze/orders"
        )
    location = location.strip()
    if "://" not in location and not location.startswith("file:"):
        return LOCAL_NAMESPACE, _clean_path(os.path.abspath(location))
    parts = urlsplit(location)
    scheme = parts.scheme.lower()
    if scheme == "file":
        path = _clean_path(unquote(parts.path) or "/")
        host = parts.netloc
        if host in ("", "localhost"):
            return LOCAL_NAMESPACE, path
        return f"file://{host}", path
    if scheme in _BUCKET_SCHEMES:
        if not parts.netloc:
            raise InvalidLocationError(
                f"dataset location {location!r} has no bucket: write it as "
                f"{scheme}://BUCKET/KEY"
            )
        key = unquote(parts.path).strip("/")
        namespace_scheme = "s3" if scheme in _S3_SCHEMES else scheme
        return f"{namespace_scheme}://{parts.netloc}", key or "/"
    if scheme in _AUTHORITY_SCHEMES:
        path = _clean_path(unquote(parts.path) or "/")
        if scheme != "hdfs":
            path = path.lstrip("/") or "/"
        return f"{scheme}://{parts.netloc}", path
    raise InvalidLocationError(
        f"dataset location {location!r} uses the unsupported scheme {scheme!r}: use a local path, "
        "file://, s3a://, s3://, gs://, hdfs:// or abfss://"
    )


def dataset_key(namespace: str, name: str) -> str:
    """The single string the metadata store files a dataset under: namespace and name as one URI.

    ``("file", "/data/x")`` gives ``file:///data/x``; ``("s3://b", "k/x")`` gives ``s3://b/k/x``.
    """
    if "://" in namespace:
        return f"{namespace.rstrip('/')}/{name.lstrip('/')}"
    return f"{namespace}://{name}"


def location_key(location: str) -> str:
    """:func:`dataset_key` of :func:`dataset_id`: the store key of a storage location."""
    return dataset_key(*dataset_id(location))


def _clean_path(path: str) -> str:
    cleaned = posixpath.normpath(path)
    # normpath keeps a leading "//" (POSIX allows it to mean something else); we never want it.
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned
