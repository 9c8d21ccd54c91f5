"""Saving and loading fitted models: one ``.npz`` file, arrays plus a JSON header, no pickle.

Layout: ``meta`` (the JSON header as UTF-8 bytes: format version, the
estimator's parameters, per-grade results, stop reason, target name and, per grade, a
fingerprint of the values it was fit to: absent in files of older versions),
``domain`` (d x 2), and ``hidden_k`` / ``readout_k`` for each grade k.
Floats are stored as float64 arrays and JSON numbers written with ``repr``
precision, so a save / load round trip is exact.  Anything else in the file,
or anything missing, is reported as :class:`ModelFileError`.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .grade import GradeResult
from .network import GradeLayer

__all__ = ["ModelFileError", "save_model", "load_model", "write_atomic", "FORMAT"]

FORMAT = "mgdl-convex-model/1"


class ModelFileError(ValueError):
    """A model file is missing, truncated, corrupt or of another format."""


def write_atomic(path, text: str) -> None:
    """Write a text file atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_model(model, path) -> None:
    """Write atomically: to a temporary file in the same folder, then rename."""
    model._check_fitted()
    meta = {
        "format": FORMAT,
        "params": model.get_params(),
        "grades": [g.to_dict() for g in model.grades_],
        "stop_reason": model.stop_reason_,
        "n_features_in": model.n_features_in_,
        "target": getattr(model, "target_name_", getattr(getattr(model, "target_", None), "name", None)),
        "target_fingerprints": getattr(model, "target_fingerprints_", None),
        "sampling": getattr(model, "sampling_", "unknown"),  # None: fit on a data set
    }
    arrays = {"meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), "domain": model.domain_}
    for k, layer in enumerate(model.layers_):
        arrays[f"hidden_{k}"] = layer.hidden
        arrays[f"readout_{k}"] = layer.readout
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_model(path, cls):
    """Read a model of class ``cls`` written by :func:`save_model`; raise ModelFileError on anything else."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(arrays["meta"].tobytes().decode())
        if meta.get("format") != FORMAT:
            raise ModelFileError(f"{path}: format {meta.get('format')!r}, expected {FORMAT!r}")
        model = cls(**meta["params"])
        model.domain_ = np.asarray(arrays["domain"], dtype=float)
        model.n_features_in_ = int(meta["n_features_in"])
        model.stop_reason_ = str(meta["stop_reason"])
        if meta.get("sampling", "unknown") != "unknown":  # older files do not record it
            model.sampling_ = meta["sampling"]
        model.grades_ = [GradeResult(**g) for g in meta["grades"]]
        model.target_name_ = meta.get("target")
        model.target_fingerprints_ = meta.get("target_fingerprints")  # None in files of older versions
        model.layers_ = [
            GradeLayer(
                hidden=np.asarray(arrays[f"hidden_{k}"], float), readout=np.asarray(arrays[f"readout_{k}"], float)
            )
            for k in range(len(model.grades_))
        ]
    except ModelFileError:
        raise
    except FileNotFoundError as e:
        raise ModelFileError(f"no model file at {path}") from e
    except Exception as e:  # a damaged zip can raise almost anything (zipfile, zlib, numpy, json)
        raise ModelFileError(f"{path} is not a readable mgdl-convex model ({type(e).__name__}: {e})") from e
    _check_consistent(model, path)
    return model


def _check_consistent(model, path) -> None:
    q = model.n_features_in_ + 1
    for k, layer in enumerate(model.layers_):
        if layer.hidden.ndim != 2 or layer.hidden.shape[0] != q or layer.readout.shape != (layer.hidden.shape[1],):
            raise ModelFileError(f"{path}: grade {k + 1} weights have inconsistent shapes")
        if not (np.all(np.isfinite(layer.hidden)) and np.all(np.isfinite(layer.readout))):
            raise ModelFileError(f"{path}: grade {k + 1} weights contain NaN or inf")
        q = layer.hidden.shape[1] + 1
    if model.domain_.shape != (model.n_features_in_, 2):
        raise ModelFileError(f"{path}: domain has shape {model.domain_.shape}, expected ({model.n_features_in_}, 2)")
