"""Weights: what we ship and what we fetch.

- ``store``: our safetensors files and the manifest in ``weights/`` (save, check, load).
- ``shipped``: the shipped VAE, DFC-VAE, Glow and PGGAN, built from their manifest entries.
- ``downloads``: the registry entry of a foreign file and the checked, atomic fetch.
- ``interfacegan``: InterFaceGAN's published 1024x1024 PGGAN and boundaries: where they
  come from, how they load.

The names most callers need are here; the loaders of whole models are imported from
``shipped`` and ``interfacegan``."""

from .downloads import Download, DownloadError, fetch, fetch_all, load_foreign_pth
from .store import (MANIFEST, WEIGHTS_DIR, Headline, Record, WeightsError, check_replacement, history_path,
                    load_weights, manifest_config, model_record, read_manifest, record_metrics, restore_manifest,
                    save_weights, sha256_of, shipped_name, weights_dir)

__all__ = ["MANIFEST", "WEIGHTS_DIR", "Download", "DownloadError", "Headline", "Record", "WeightsError",
           "check_replacement", "fetch", "fetch_all", "history_path", "load_foreign_pth", "load_weights",
           "manifest_config", "model_record", "read_manifest", "record_metrics", "restore_manifest", "save_weights",
           "sha256_of", "shipped_name", "weights_dir"]
