"""The worker: imports the student's package and answers the grader's requests over two pipes.

Started by the launcher as ``python -s -S -B worker.py --req FD --resp FD ...`` with a copy of
protocol.py beside it. Nothing here is trusted by the grader: student code shares this process
and may change anything in it. The grader therefore checks every reply itself; this file only
has to be correct for honest code. Results that are plain data are sent as data; anything else
stays here, in ``handles``, and the grader gets a handle to pass back later.
"""

import argparse
import importlib
import importlib.machinery
import os
import sys
import traceback

MAX_TEXT = 4000
MAX_TRACEBACK = 8000


def _clip(text, limit):
    text = str(text)
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... [{len(text) - limit} characters cut] ...\n{text[-half:]}"


class Worker:
    def __init__(self, args, protocol, np):
        self.protocol = protocol
        self.np = np
        self.req = args.req
        self.resp = args.resp
        self.pkg = args.pkg
        self.pkg_dir = os.path.join(args.pkg_parent, args.pkg)
        self.pkg_parent = args.pkg_parent
        self.max_depth = args.max_depth
        self.handles = {}
        self.next_handle = 1
        self.given = frozenset(filter(None, args.given.split(",")))
        self.naive_suffix = args.naive_suffix
        self.naive_call = None  # the naive function running now, if any
        self.reader = protocol.FrameReader(
            self.req, protocol.Decoder(self._resolve, self.max_depth).check_body, 1 << 62, 1 << 62
        )

    # ------------------------------------------------------------------------------ messages
    def send(self, header, value=None, strict=False):
        on_other = self._refuse if strict else self._keep
        encoder = self.protocol.Encoder(on_other, self.max_depth)
        header["body"] = encoder.encode(value)
        self.protocol.write_all(self.resp, self.protocol.frame(header, encoder.buffers))

    def _keep(self, value, path):
        handle = self.next_handle
        self.next_handle += 1
        self.handles[handle] = value
        return {"$h": handle, "t": self._type_name(value)}

    def _refuse(self, value, path):
        raise self.protocol.ProtocolError(f"{path}: {self.protocol.refusal(value)}")

    def _type_name(self, value):
        try:
            return self.protocol.describe_type(value)
        except Exception:
            return "object"

    def _resolve(self, node):
        try:
            return self.handles[node["$h"]]
        except KeyError:
            raise self.protocol.ProtocolError(f"unknown handle {node['$h']}") from None

    # ------------------------------------------------------------------------------ imports
    def module_file(self, name):
        rel = name[len(self.pkg) + 1 :].replace(".", "/") if name != self.pkg else ""
        if rel and os.path.isfile(os.path.join(self.pkg_dir, rel + ".py")):
            return rel + ".py"
        if os.path.isdir(os.path.join(self.pkg_dir, rel)):
            return (rel + "/" if rel else "") + "__init__.py"
        return rel + ".py"

    def install_import_notifier(self):
        """Tell the grader which of the student's modules is being imported, so a death during
        an import is reported against the right file."""
        worker = self

        class Notifier:
            @staticmethod
            def find_spec(name, path, target=None):
                if name != worker.pkg and not name.startswith(worker.pkg + "."):
                    return None
                spec = importlib.machinery.PathFinder.find_spec(name, path)
                if spec is None or spec.loader is None:
                    return spec
                original = spec.loader.exec_module

                def exec_module(module):
                    worker.progress("import", name)
                    try:
                        original(module)
                    except SystemExit:
                        raise  # the process is ending inside this import: leave it reported
                    except BaseException:
                        worker.progress("imported", name)
                        raise
                    worker.guard_given(module)
                    worker.progress("imported", name)

                try:
                    spec.loader.exec_module = exec_module
                except AttributeError:
                    pass
                return spec

        sys.meta_path.insert(0, Notifier)

    def guard_given(self, module):
        """Make a given module's functions raise while a naive function runs.

        Runs right after the module is imported, before the student's modules can bind its
        names, so ``from .given import f`` in their code gets the guarded function too.
        """
        short = module.__name__[len(self.pkg) + 1 :]
        if short not in self.given or not self.naive_suffix:
            return
        for attr, value in list(vars(module).items()):
            if attr.startswith("__") or isinstance(value, type) or not callable(value):
                continue
            if getattr(value, "__module__", None) != module.__name__:
                continue
            try:
                setattr(module, attr, self._guarded(f"{short}.{attr}", value))
            except Exception:
                pass

    def _guarded(self, name, func):
        worker = self

        def guarded(*args, **kwargs):
            if worker.naive_call is not None:
                raise RuntimeError(
                    f"{worker.naive_call} called {name}, which the course gives you: a naive "
                    "implementation must compute its result with your own code, so the modules "
                    "the course gives are not available inside it"
                )
            return func(*args, **kwargs)

        for attr in ("__name__", "__qualname__", "__doc__"):
            try:
                setattr(guarded, attr, getattr(func, attr))
            except Exception:
                pass
        return guarded

    def progress(self, event, module):
        self.send({"op": "progress", "event": event, "module": self.module_file(module)})

    def import_module(self, module):
        full = f"{self.pkg}.{module}" if module else self.pkg
        return importlib.import_module(full)

    # ------------------------------------------------------------------------------ errors
    def describe_error(self, exc, module=None):
        kind = "exception"
        name = type(exc).__name__
        owner = getattr(type(exc), "__module__", "builtins")
        if owner not in ("builtins", None) and not owner.startswith(self.pkg):
            name = f"{owner}.{name}"
        try:
            message = str(exc)
        except Exception:
            message = "(the exception's message could not be printed)"
        if isinstance(exc, MemoryError):
            kind = "memory"
        elif isinstance(exc, SyntaxError) and exc.filename:
            message = f"{exc.msg} ({self._rel(exc.filename)}, line {exc.lineno})"
            if exc.text:
                message += "\n    " + exc.text.strip()
        error = {
            "kind": kind,
            "type": _clip(name, 200),
            "message": _clip(message, MAX_TEXT),
            "traceback": _clip(self.student_traceback(exc), MAX_TRACEBACK),
        }
        if module is not None:
            error["kind"] = "import"
            error["module"] = self.module_file(f"{self.pkg}.{module}" if module else self.pkg)
            missing = getattr(exc, "name", None)
            full = f"{self.pkg}.{module}"
            own = missing and (full == missing or full.startswith(missing + "."))
            if isinstance(exc, ModuleNotFoundError) and own:
                error["kind"] = "missing"
                error["message"] = f"the submission has no {error['module']}"
        return error

    def _rel(self, filename):
        if filename.startswith(self.pkg_parent + os.sep):
            return filename[len(self.pkg_parent) + 1 :]
        return os.path.basename(filename)

    def student_traceback(self, exc):
        try:
            frames = traceback.extract_tb(exc.__traceback__)
        except Exception:
            return ""
        mine = [f for f in frames if f.filename.startswith(self.pkg_dir + os.sep)]
        for f in mine:
            f.filename = self._rel(f.filename)
        return "".join(traceback.format_list(mine))

    # ---------------------------------------------------------------------------- requests
    def handle(self, op, body):
        """Run one request; returns (ok, value or error description)."""
        if op == "call":
            target = body.get("target")
            if target is None:
                func = getattr(body["self"], body["method"])
            else:
                module, _, attr = target.rpartition(".")
                if not module or not attr:
                    raise LookupError(f"call target {target!r} must look like 'module.function'")
                try:
                    mod = self.import_module(module)
                except (SystemExit, GeneratorExit):
                    raise
                except BaseException as exc:
                    return False, self.describe_error(exc, module)
                try:
                    func = getattr(mod, attr)
                except AttributeError:
                    where = self.module_file(mod.__name__)
                    message = f"{where} has no {attr!r}"
                    return False, {"kind": "missing", "type": "AttributeError", "message": message}
            called = target or str(body["method"])
            naive = bool(self.naive_suffix) and called.endswith(self.naive_suffix)
            if naive:
                self.naive_call = called
            try:
                return True, func(*body.get("args", ()), **body.get("kwargs", {}))
            finally:
                if naive:
                    self.naive_call = None
        if op == "getattr":
            return True, getattr(body["self"], body["name"])
        if op == "setattr":
            setattr(body["self"], body["name"], body["value"])
            return True, None
        if op in ("put", "fetch"):
            return True, body["value"]
        if op == "release":
            for ident in body.get("ids", []):
                self.handles.pop(ident, None)
            return True, None
        if op == "import":
            try:
                self.import_module(body["module"])
            except (SystemExit, GeneratorExit):
                raise
            except BaseException as exc:
                return False, self.describe_error(exc, body["module"])
            return True, None
        if op == "seed":
            self.np.random.seed(body["value"])
            return True, None
        if op == "ping":
            return True, body.get("value")
        raise LookupError(f"unknown request {op!r}")

    def flush(self):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass

    def reply(self, ident, op, ok, value):
        header = {"id": ident, "ok": ok}
        if not ok:
            header["error"] = value
            self.send(header)
            return
        if op == "put":
            header["body"] = self._keep(value, "value")
            self.protocol.write_all(self.resp, self.protocol.frame(header, []))
            return
        try:
            self.send(header, value, strict=(op == "fetch"))
        except Exception as exc:  # a refused value, or a student object that broke encoding
            message = str(exc) if isinstance(exc, self.protocol.ProtocolError) else repr(exc)
            error = {"kind": "refused", "type": "UnsupportedValue", "message": _clip(message, 800)}
            self.send({"id": ident, "ok": False, "error": error})

    def serve(self):
        self.send({"op": "hello"}, {"pid": os.getpid(), "numpy": self.np.__version__})
        decoder = self.protocol.Decoder(self._resolve, self.max_depth)
        while True:
            try:
                header, buffers = self.reader.read_frame()
            except EOFError:
                return
            op = header.get("op")
            try:
                body = decoder.build(header.get("body"), buffers)
                ok, value = self.handle(op, body)
            except (SystemExit, GeneratorExit):
                self.flush()
                raise
            except BaseException as exc:
                ok, value = False, self.describe_error(exc)
            self.flush()
            self.reply(header.get("id"), op, ok, value)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--req", type=int, required=True)
    parser.add_argument("--resp", type=int, required=True)
    parser.add_argument("--pkg", required=True)
    parser.add_argument("--pkg-parent", required=True)
    parser.add_argument("--site", required=True)
    parser.add_argument("--max-depth", type=int, default=32)
    parser.add_argument("--session", default="")
    parser.add_argument("--given", default="")
    parser.add_argument("--naive-suffix", default="")
    args = parser.parse_args()
    runtime = sys.path[0]
    sys.path.append(args.site)
    import _nngrade_protocol as protocol  # found beside this file
    import numpy as np  # imported before the student's code can patch it

    sys.path[:] = [p for p in sys.path if p != runtime] + [args.pkg_parent]
    for fd in (args.req, args.resp):
        os.set_inheritable(fd, False)
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True)  # lines printed before a crash still arrive
    worker = Worker(args, protocol, np)
    worker.install_import_notifier()
    worker.serve()


if __name__ == "__main__":
    main()
