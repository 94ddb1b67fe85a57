"""``ObjectStoragePath``: Airflow 3's path over a filesystem or object store (``airflow.sdk``,
``airflow.sdk.io.path``, Airflow 2's ``airflow.io.path``).

As Airflow's, it is a ``upath`` proxy path (pathlib's API over an fsspec filesystem: ``/``,
``open``, ``read_text``, ``write_bytes``, ``exists``, ``mkdir``, ``iterdir``, ``glob`` ...) plus
Airflow's own methods (``copy``, ``move``, ``copy_into``, ``move_into``, ``size``, ``checksum``,
``read_block``, ``bucket``/``key``/``container``/``namespace``, ``serialize``). A connection is
named with ``conn_id=`` or in the URL (``s3://aws_default@bucket/key``).

Every operation goes through the filesystem `store.attach` gives for the path's scheme and
connection, which is put into the wrapped path when it is made (Airflow does so for paths with
a connection). A scheme without a filesystem here (see `fs`) still makes a path, as in Airflow,
so a DAG file that names one imports; its first operation raises `fs.NoFilesystemForScheme`,
naming the scheme.
"""

from __future__ import annotations

import shutil
from typing import Any, ClassVar
from urllib.parse import urlsplit

from fsspec import AbstractFileSystem
from fsspec.utils import stringify_path
from upath import UPath
from upath.extensions import ProxyUPath, classmethod_or_method

from .fs import NoFilesystemForScheme, get_fs
from .store import attach


class _Unresolved:
    """Stands for the filesystem of a path whose store has none yet (a scheme we do not have):
    each use asks the store again, so an `attach(protocol, fs=...)` made after the path serves
    it from then on (in Airflow a path finds its store when used); until then a use raises,
    naming the scheme."""

    def __init__(self, protocol: str, conn_id: str | None) -> None:
        self._protocol = protocol
        self._conn_id = conn_id

    def __getattr__(self, name: str) -> Any:
        if name in ("_protocol", "_conn_id"):  # not set yet (a copy being made)
            raise AttributeError(name)
        return getattr(attach(self._protocol, self._conn_id).fs, name)


class ObjectStoragePath(ProxyUPath):
    """A path-like object for object storage."""

    __version__: ClassVar[int] = 1

    sep: ClassVar[str] = "/"
    root_marker: ClassVar[str] = "/"

    __slots__ = ("_conn_id", "_hash_cached")

    def __init__(
        self,
        *args: Any,
        protocol: str | None = None,
        conn_id: str | None = None,
        **storage_options: Any,
    ) -> None:
        url_conn_id: str | None = None
        if args:
            first = args[0]
            if isinstance(first, ObjectStoragePath):
                url_conn_id = first.conn_id
            else:
                # "scheme://conn_id@bucket/key": the user part names the connection and is not
                # part of the path the filesystem sees.
                url = urlsplit(stringify_path(first))
                user, at, host = url.netloc.rpartition("@")
                if at:
                    url_conn_id = user or None
                    url = url._replace(netloc=host)
                args = (url.geturl(), *args[1:])
                protocol = protocol or url.scheme
        self._conn_id = conn_id if conn_id is not None else url_conn_id
        storage_options.pop("conn_id", None)
        super().__init__(*args, protocol=protocol, **storage_options)
        self._use_store_filesystem(self.__wrapped__, storage_options)

    @classmethod_or_method  # type: ignore[arg-type, misc]
    def _from_upath(cls_or_self: Any, upath: UPath, /) -> ObjectStoragePath:  # type: ignore[override]
        """Wrap a path upath made (a child, a parent, a glob's match), keeping the connection."""
        is_instance = isinstance(cls_or_self, ObjectStoragePath)
        cls: type[ObjectStoragePath] = type(cls_or_self) if is_instance else cls_or_self
        if isinstance(upath, cls):
            return upath
        obj = object.__new__(cls)
        obj.__wrapped__ = upath
        obj._conn_id = cls_or_self._conn_id if is_instance else None
        if not hasattr(upath, "_fs_cached"):
            obj._use_store_filesystem(upath)
        return obj

    def _use_store_filesystem(self, wrapped: UPath, options: dict[str, Any] | None = None) -> None:
        """Give `wrapped` its filesystem: the store's, or with a path's own storage `options`
        one of its own (the store's was made without them), with the connection's credentials
        either way; a scheme without one gets the stand-in that asks again at each use."""
        protocol = self.protocol or "file"
        try:
            fs: Any = get_fs(protocol, self._conn_id, options) if options else self._store_fs()
        except NoFilesystemForScheme:
            fs = _Unresolved(protocol, self._conn_id)
        wrapped._fs_cached = fs  # type: ignore[attr-defined]

    def _store_fs(self) -> AbstractFileSystem:
        return attach(self.protocol or "file", self._conn_id).fs

    @property
    def conn_id(self) -> str | None:
        return getattr(self, "_conn_id", None)

    @property
    def fs(self) -> AbstractFileSystem:
        """The filesystem this path's operations use (its own when it has storage options);
        for a scheme without one, the store's answer: raising, naming the scheme, until
        an attach gives one."""
        fs = getattr(self.__wrapped__, "_fs_cached", None)
        return self._store_fs() if fs is None or isinstance(fs, _Unresolved) else fs

    def __hash__(self) -> int:
        try:
            return self._hash_cached
        except AttributeError:
            self._hash_cached: int = hash(str(self))
            return self._hash_cached

    def __eq__(self, other: object) -> bool:
        return self.samestore(other) and str(self) == str(other)

    def __ne__(self, other: object) -> bool:
        # ProxyUPath compares the wrapped paths only; another connection is another store.
        return not self == other

    def samestore(self, other: Any) -> bool:
        return (
            isinstance(other, ObjectStoragePath)
            and self.protocol == other.protocol
            and self.conn_id == other.conn_id
        )

    def __str__(self) -> str:
        if self.protocol and self.conn_id:
            return f"{self.protocol}://{self.conn_id}@{self.path}"
        return super().__str__()

    @property
    def container(self) -> str:
        return self.bucket

    @property
    def bucket(self) -> str:
        return self._url.netloc if self._url else ""

    @property
    def key(self) -> str:
        # Relative (no leading separator); a trailing one is kept: it marks a "directory".
        return self._url.path.lstrip(self.sep) if self._url else ""

    @property
    def namespace(self) -> str:
        return f"{self.protocol}://{self.bucket}" if self.bucket else self.protocol

    def open(self, mode: str = "r", **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("block_size", kwargs.pop("buffering", None))
        return self.fs.open(self.path, mode=mode, **kwargs)

    def replace(self, target: Any) -> Any:
        return self.rename(target)

    @classmethod
    def cwd(cls) -> ObjectStoragePath:  # type: ignore[override]
        return cls._from_upath(UPath.cwd())

    @classmethod
    def home(cls) -> ObjectStoragePath:  # type: ignore[override]
        return cls._from_upath(UPath.home())

    # -- Airflow's extended operations ----------------------------------------------------

    def ukey(self) -> str:
        return self.fs.ukey(self.path)

    def checksum(self) -> int:
        return self.fs.checksum(self.path)

    def read_block(self, offset: int, length: int, delimiter: bytes | None = None) -> bytes:
        return self.fs.read_block(self.path, offset=offset, length=length, delimiter=delimiter)

    def sign(self, expiration: int = 100, **kwargs: Any) -> str:
        return self.fs.sign(self.path, expiration=expiration, **kwargs)

    def size(self) -> int:
        return self.fs.size(self.path)

    def _cp_file(self, dst: ObjectStoragePath, **kwargs: Any) -> None:
        """Stream one file to `dst` (into it, under this key, when it is a directory)."""
        if dst.key.endswith(self.sep) or not dst.key:
            dst.mkdir(exist_ok=True, parents=True)
            dst = dst / self.key
        elif dst.is_dir():
            dst = dst / self.key
        with self.open("rb") as source, dst.open("wb") as target:
            shutil.copyfileobj(source, target, **kwargs)

    def copy(  # type: ignore[override]
        self, dst: str | ObjectStoragePath, recursive: bool = False, **kwargs: Any
    ) -> None:
        """Copy this file (or directory, with `recursive`) to `dst`, within a store or across
        stores (a remote-to-remote copy keeps the source's key under the destination)."""
        if isinstance(dst, str):
            dst = ObjectStoragePath(dst)
        if self.samestore(dst):
            self.fs.copy(self.path, dst.path, recursive=recursive, **kwargs)
        elif self.protocol == "file":
            dst.fs.put(self.path, dst.path, recursive=recursive, **kwargs)
        elif dst.protocol == "file":
            self.fs.get(self.path, dst.path, recursive=recursive, **kwargs)
        elif not self.exists():
            raise FileNotFoundError(f"{self} does not exist")
        elif self.is_dir():
            if dst.is_file():
                raise ValueError("Cannot copy directory to a file.")
            dst.mkdir(exist_ok=True, parents=True)
            for path in self.fs.expand_path(self.path, recursive=True, **kwargs):
                if path == self.path:
                    continue
                source = ObjectStoragePath(path, protocol=self.protocol, conn_id=self.conn_id)
                if not source.is_dir():  # empty directories are not copied, as in Airflow
                    source._cp_file(dst)
        else:
            self._cp_file(dst, **kwargs)

    def copy_into(  # type: ignore[override]
        self, target_dir: str | ObjectStoragePath, recursive: bool = False, **kwargs: Any
    ) -> None:
        self.copy(_directory(target_dir) / self.name, recursive=recursive, **kwargs)

    def move(  # type: ignore[override]
        self, path: str | ObjectStoragePath, recursive: bool = False, **kwargs: Any
    ) -> None:
        if isinstance(path, str):
            path = ObjectStoragePath(path)
        if self.samestore(path):
            self.fs.move(self.path, path.path, recursive=recursive, **kwargs)
            return
        self.copy(path, recursive=recursive, **kwargs)
        self.unlink()

    def move_into(  # type: ignore[override]
        self, target_dir: str | ObjectStoragePath, recursive: bool = False, **kwargs: Any
    ) -> None:
        self.move(_directory(target_dir) / self.name, recursive=recursive, **kwargs)

    def serialize(self) -> dict[str, Any]:
        return {"path": str(self), "conn_id": self.conn_id, "kwargs": {**self.storage_options}}

    @classmethod
    def deserialize(cls, data: dict[str, Any], version: int) -> ObjectStoragePath:
        if version > cls.__version__:
            raise ValueError(
                f"Cannot deserialize version {version} with version {cls.__version__}."
            )
        data = dict(data)
        kwargs = data.pop("kwargs")
        return cls(data.pop("path"), conn_id=data.pop("conn_id", None), **kwargs)


def _directory(target_dir: str | ObjectStoragePath) -> ObjectStoragePath:
    """The destination of `copy_into`/`move_into`, which must be an existing directory (as
    Airflow's)."""
    if isinstance(target_dir, str):
        target_dir = ObjectStoragePath(target_dir)
    if not target_dir.is_dir():
        raise NotADirectoryError(f"Destination {target_dir} is not a directory.")
    return target_dir
