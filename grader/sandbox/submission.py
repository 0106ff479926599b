"""Find the student's package in a submission and make the private copy the worker imports.

A submission is a directory or a .zip holding ``assignment/`` or ``cs231n/``, possibly inside one
wrapping folder. Archives are checked before anything is written: no absolute paths, no ``..``,
no links, no encryption, and bounded file count and size. Only regular files are copied; build
products are left out, and the course's given modules replace the student's copies.
"""

from __future__ import annotations

import ast
import os
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.course import COURSE

from .errors import SubmissionError
from .settings import Limits, Settings

SKIP_DIRS = frozenset(
    {"__pycache__", ".git", ".ipynb_checkpoints", "__MACOSX", "datasets", "build", ".venv"}
)
SKIP_SUFFIXES = (".pyc", ".pyo", ".so", ".pyd", ".o", ".dll", ".dylib")


@dataclass
class PreparedPackage:
    """The worker's copy of the student package: ``parent / name`` is the package directory."""

    name: str
    parent: Path
    replaced: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.parent / self.name


def _size(n: int) -> str:
    return f"{n / (1 << 20):g} MiB" if n >= 1 << 20 else f"{n} bytes"


def _skipped(parts: tuple[str, ...]) -> bool:
    return bool(SKIP_DIRS.intersection(parts[:-1])) or parts[-1].endswith(SKIP_SUFFIXES)


def extract_zip(archive: Path, dest: Path, limits: Limits) -> None:
    """Unpack ``archive`` into ``dest`` after checking every member; raise SubmissionError."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{archive.name} is not a readable zip archive ({exc})") from None
    with zf:
        members = zf.infolist()
        if len(members) > limits.submission_files:
            raise SubmissionError(
                f"{archive.name} holds {len(members)} entries (limit {limits.submission_files})"
            )
        plan: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
        total = 0
        for info in members:
            name = info.filename.replace("\\", "/")
            rel = PurePosixPath(name)
            if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
                raise SubmissionError(f"{archive.name}: absolute path {info.filename!r} refused")
            if ".." in rel.parts:
                raise SubmissionError(f"{archive.name}: path {info.filename!r} leaves the archive")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise SubmissionError(f"{archive.name}: symbolic link {info.filename!r} refused")
            if info.flag_bits & 0x1:
                raise SubmissionError(f"{archive.name}: encrypted entry {info.filename!r}")
            if info.is_dir() or not rel.parts or _skipped(rel.parts):
                continue
            total += info.file_size
            if total > limits.submission_bytes:
                raise SubmissionError(
                    f"{archive.name} unpacks to more than {_size(limits.submission_bytes)}"
                )
            plan.append((info, rel))
        written = 0
        for info, rel in plan:
            target = dest.joinpath(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, open(target, "xb") as out:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > limits.submission_bytes:
                            raise SubmissionError(f"{archive.name} unpacks to too much data")
                        out.write(chunk)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
                message = f"{archive.name}: cannot extract {info.filename}: {exc}"
                raise SubmissionError(message) from None
            os.chmod(target, 0o644)


def find_package(root: Path, names: tuple[str, ...]) -> Path:
    """The student's package directory: ``root/<name>`` or ``root/<wrapper>/<name>``."""
    levels = [root]
    wrappers = [
        p
        for p in sorted(root.iterdir())
        if p.is_dir() and not p.is_symlink() and not p.name.startswith((".", "__"))
    ]
    if len(wrappers) == 1 and wrappers[0].name not in names:
        levels.append(wrappers[0])
    for level in levels:
        found = [level / n for n in names if (level / n).is_dir() and not (level / n).is_symlink()]
        if found:
            marked = [p for p in found if (p / COURSE.package_marker).is_file()]
            return (marked or found)[0]
    wanted = " or ".join(f"{n}/" for n in names)
    raise SubmissionError(f"no {wanted} package found in the submission")


def copy_package(source: Path, dest: Path, limits: Limits) -> None:
    """Copy the regular files of a package tree; links are refused, build products skipped."""
    count = size = 0
    for dirpath, dirnames, filenames in os.walk(source, followlinks=False):
        here = Path(dirpath)
        rel_dir = here.relative_to(source)
        for name in list(dirnames):
            if (here / name).is_symlink():
                raise SubmissionError(f"symbolic link {source.name}/{rel_dir / name} refused")
            if name in SKIP_DIRS:
                dirnames.remove(name)
        (dest / rel_dir).mkdir(parents=True, exist_ok=True)
        for name in filenames:
            path = here / name
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                raise SubmissionError(f"symbolic link {source.name}/{rel_dir / name} refused")
            if not stat.S_ISREG(info.st_mode) or name.endswith(SKIP_SUFFIXES):
                continue
            count += 1
            size += info.st_size
            if count > limits.submission_files or size > limits.submission_bytes:
                raise SubmissionError(
                    f"the package is larger than {limits.submission_files} files or "
                    f"{_size(limits.submission_bytes)}"
                )
            shutil.copyfile(path, dest / rel_dir / name, follow_symlinks=False)
            os.chmod(dest / rel_dir / name, 0o644)
    for dirpath, _, _ in os.walk(dest):
        os.chmod(dirpath, 0o755)


def apply_given_modules(course: Path, package: Path, settings: Settings) -> tuple[list, list]:
    """Put the course's copies of given modules (and its compiled kernels) into the package."""
    replaced, added = [], []
    for name in settings.given_modules:
        src = course / name
        if not src.is_file():
            continue
        dst = package / name
        (replaced if dst.exists() else added).append(name)
        if dst.exists() or dst.is_symlink():
            dst.unlink()
        shutil.copyfile(src, dst)
        os.chmod(dst, 0o644)
    if course.is_dir():
        for src in sorted(course.iterdir()):
            if src.name.startswith(settings.given_extensions) and src.suffix in (".so", ".pyd"):
                shutil.copyfile(src, package / src.name)
                os.chmod(package / src.name, 0o755)
                added.append(src.name)
    return replaced, added


def prepare_package(
    submission: Path, workdir: Path, course: Path, settings: Settings, limits: Limits
) -> PreparedPackage:
    """Unpack (if needed), locate and copy the student's package under ``workdir/pkg``."""
    submission = Path(submission)
    if not submission.exists():
        raise SubmissionError(f"no such submission: {submission}")
    root = submission
    if submission.is_file():
        if not zipfile.is_zipfile(submission):
            raise SubmissionError(f"{submission.name} is neither a directory nor a zip archive")
        root = workdir / "unpacked"
        root.mkdir(mode=0o700)
        extract_zip(submission, root, limits)
    source = find_package(root, settings.package_names)
    parent = workdir / "pkg"
    parent.mkdir(mode=0o755)
    prepared = PreparedPackage(source.name, parent)
    copy_package(source, prepared.path, limits)
    prepared.replaced, prepared.added = apply_given_modules(course, prepared.path, settings)
    if root is not submission:
        shutil.rmtree(root, ignore_errors=True)
    return prepared


MAX_PARSED_BYTES = 2 << 20  # a module larger than this is not read for its edition


def defined_names(module: Path) -> set[str] | None:
    """Top-level functions, classes and assigned names of a module, read without running it.

    None when the file is missing, too large or not Python: the edition is then not decided from
    it (the module's own checks report what is wrong with it).
    """
    try:
        if not module.is_file() or module.stat().st_size > MAX_PARSED_BYTES:
            return None
        tree = ast.parse(module.read_bytes())
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if any(alias.name == "*" for alias in node.names):
                return None  # a star import may define anything
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def detect_edition(package: PreparedPackage, editions: tuple) -> object | None:
    """The course edition whose layout the package has (``rubric.Edition``), or None.

    A package is in an edition when its folder has the edition's name and its modules define
    none of the objects the edition lacks; a student who wrote them anyway is graded on them.
    """
    for edition in editions:
        if package.name != edition.package:
            continue
        lacking = True
        for obj in edition.absent:
            module, _, name = obj.rpartition(".")
            names = defined_names(package.path / COURSE.module_file(module))
            if names is None or name in names:
                lacking = False
                break
        if lacking:
            return edition
    return None
