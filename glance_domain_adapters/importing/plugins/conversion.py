"""``image_conversion``: converts the staged data to ``[image_conversion] output_format``
(raw by default; qcow2 or vmdk) with ``qemu-img`` (Debian/Ubuntu package ``qemu-utils``).

Glance's checks, in its order, before ``qemu-img`` touches the data:

1. oslo.utils' format inspector reads the file: a format it cannot parse ("Image format
   detection failed") or a failed safety check — a qcow2 backing file or external data file,
   VMDK extents outside the file... ("Image has disallowed configuration"; gpt checks listed
   in ``[image_format] gpt_safety_checks_nonfatal`` are tolerated) fails the import;
2. the detected format must be the image's ``disk_format`` ("Image format mismatch"; GPT
   counts as raw; an ISO is never converted and must be claimed as ``iso``);
3. ``qemu-img info`` (limited to 2 s of CPU and 1 GiB of memory) must agree on the format, and
   must show no backing file, no ``data-file`` and, for VMDK, a create-type in
   ``[image_format] vmdk_allowed_types``; its virtual size is recorded.

Data already in the output format is left alone. Otherwise ``qemu-img convert`` writes the new
data next to the staged file, which it then replaces (capped, like every replacement, at
``image_size_cap`` and the owner's remaining ``user_storage_quota``; a raw output whose
virtual size is beyond that is refused before converting); the converted file is inspected
once more and must be in the output format ("Converted image in unexpected format"). The
image then has ``disk_format`` = output format, ``container_format`` = ``bare`` and the new
``size``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

from oslo_config import cfg
from oslo_utils.imageutils import format_inspector as fi

from glance_domain.errors import SizeLimitExceeded
from glance_domain.importing.plugins import ImportJob
from glance_domain_adapters.importing.plugins.decompression import local_file

LOG = logging.getLogger(__name__)

OUTPUT_FORMATS = ("qcow2", "raw", "vmdk")
#: Room for format metadata beyond the size limit when ``qemu-img convert`` writes its output.
CONVERT_SLACK = 64 << 20
#: Glance's limits for ``qemu-img info`` on untrusted data.
INFO_CPU_SECONDS = 2
INFO_ADDRESS_SPACE = 1 << 30
#: qemu-img's names for disk formats that differ from Glance's.
QEMU_NAMES = {"vhd": "vpc"}
CHUNK_SIZE = 1 << 20


class ConversionError(RuntimeError):
    """The data cannot (or must not) be converted."""


class ImageConversion:
    """Converts staged data to ``output_format`` with ``qemu-img`` (see the module docstring).
    """

    def __init__(
        self, output_format: str = "raw", *,
        vmdk_allowed_types: Sequence[str] = ("streamOptimized", "monolithicSparse"),
        gpt_safety_checks_nonfatal: Sequence[str] = (), qemu_img: str = "qemu-img",
    ) -> None:
        if output_format not in OUTPUT_FORMATS:
            raise ValueError(f"output_format must be one of {', '.join(OUTPUT_FORMATS)}")
        self.output_format = output_format
        self.vmdk_allowed_types = tuple(vmdk_allowed_types)
        self.nonfatal = frozenset(gpt_safety_checks_nonfatal)
        self.qemu_img = qemu_img

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts) -> ImageConversion:
        qemu_img = shutil.which("qemu-img")
        if qemu_img is None:
            raise RuntimeError("qemu-img is not installed (Debian/Ubuntu package qemu-utils)")
        return cls(
            conf.image_conversion.output_format,
            vmdk_allowed_types=conf.image_format.vmdk_allowed_types,
            gpt_safety_checks_nonfatal=conf.image_format.gpt_safety_checks_nonfatal,
            qemu_img=qemu_img,
        )

    # -- the steps ----------------------------------------------------------------------------
    def run(self, job: ImportJob) -> None:
        image = job.image
        source = image.disk_format or ""
        target = self.output_format
        with local_file(job) as path:
            detected = self._inspect(path)
            if detected == "iso":
                if source == "iso":
                    LOG.debug("image %s: iso data is not converted", job.image_id)
                    return
                LOG.error("image %s claims to be %s but is an ISO", job.image_id, source)
                raise ConversionError("Image has disallowed configuration")
            if detected != source:
                LOG.error("image %s claims to be %s, data is %s", job.image_id, source,
                          detected)
                raise ConversionError("Image format mismatch")
            info = self._info(path, source)
            virtual_size = int(info.get("virtual-size") or 0)
            job.set_attributes(virtual_size=virtual_size or None)
            if source == target:
                LOG.debug("image %s is already %s", job.image_id, target)
                return
            limit, message = job.size_limit()
            if virtual_size > limit:
                # whatever the output format: a qcow2/vmdk output of a small file with a huge
                # virtual size can still be written out far beyond the limit
                raise SizeLimitExceeded(message)
            self._convert(job, path, source, target)
        LOG.info("image %s converted from %s to %s (%d bytes)", job.image_id, source, target,
                 job.image.size or 0)

    def _inspect(self, path: str) -> str:
        """The detected format of ``path`` after its safety checks (gpt reported as raw)."""
        inspector = None
        try:
            inspector = fi.detect_file_format(path)
            if inspector is None:
                raise fi.ImageFormatError("no format detected")
            inspector.safety_check()
        except fi.SafetyCheckFailed as exc:
            fatal = set(exc.failures) - self.nonfatal
            if inspector is None or inspector.NAME != "gpt" or fatal:
                LOG.error("image data (%s) failed safety checks: %s", inspector, exc)
                raise ConversionError("Image has disallowed configuration") from None
            LOG.warning("non-fatal safety check failures: %s", exc)
        except fi.ImageFormatError as exc:
            LOG.error("image failed format inspection: %s", exc)
            raise ConversionError("Image format detection failed") from None
        except Exception as exc:
            LOG.exception("unexpected error inspecting image format: %s", exc)
            raise ConversionError("Unable to inspect image") from None
        name = str(inspector)
        return "raw" if name == "gpt" else name

    def _info(self, path: str, source: str) -> dict[str, Any]:
        """``qemu-img info`` of ``path`` read as ``source``, checked (see module docstring)."""
        qemu_format = QEMU_NAMES.get(source, source)
        command = [sys.executable, "-m", "glance_domain_adapters.importing.plugins._limits",
                   str(INFO_CPU_SECONDS), str(INFO_ADDRESS_SPACE), "--",
                   self.qemu_img, "info", "-f", qemu_format, "--output=json", path]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0 or result.stderr.strip():
            raise ConversionError(result.stderr.strip() or
                                  f"qemu-img info failed (exit status {result.returncode})")
        try:
            info: dict[str, Any] = json.loads(result.stdout)
        except ValueError:
            raise ConversionError("qemu-img info gave no readable answer") from None
        if info.get("format") != qemu_format:
            LOG.error("image claiming to be %s reported as %s by qemu-img", source,
                      info.get("format", "unknown"))
            raise ConversionError("Image metadata disagrees about format")
        if "backing-filename" in info:
            raise ConversionError("QCOW images with backing files are not allowed")
        specific = (info.get("format-specific") or {}).get("data") or {}
        if specific.get("data-file") is not None:
            raise ConversionError("QCOW images with data-file set are not allowed")
        if info.get("format") == "vmdk":
            create_type = specific.get("create-type")
            if not create_type:
                raise ConversionError("Unable to determine VMDK create-type")
            if not self.vmdk_allowed_types:
                raise ConversionError("Image is a VMDK, but no VMDK createType is specified")
            if create_type not in self.vmdk_allowed_types:
                raise ConversionError("Invalid VMDK create-type specified")
        return info

    def _convert(self, job: ImportJob, path: str, source: str, target: str) -> None:
        fd, dest = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".convert-")
        os.close(fd)
        try:
            limit, message = job.size_limit()
            # the output may not grow past the limit (plus room for format metadata) however
            # the input lies about itself: qemu-img gets EFBIG beyond it
            result = subprocess.run(
                [sys.executable, "-m", "glance_domain_adapters.importing.plugins._limits",
                 "0", "0", str(limit + CONVERT_SLACK), "--",
                 self.qemu_img, "convert", "-f", QEMU_NAMES.get(source, source), "-O", target,
                 path, dest],
                capture_output=True, text=True, check=False)
            if result.returncode == -signal.SIGXFSZ or (
                    result.returncode != 0 and os.strerror(errno.EFBIG) in result.stderr):
                # past the file-size limit: the signal, or (ignored, as Python leaves it for
                # the programs it starts) the write's EFBIG reported by qemu-img
                raise SizeLimitExceeded(message)
            if result.returncode != 0 or result.stderr.strip():
                raise ConversionError(result.stderr.strip() or
                                      f"qemu-img convert failed (exit status "
                                      f"{result.returncode})")
            converted = self._inspect(dest)
            if converted != target:
                LOG.error("image %s is %s after conversion to %s", job.image_id, converted,
                          target)
                raise ConversionError("Converted image in unexpected format")
            with open(dest, "rb") as data:
                size = job.replace_staged(iter(lambda: data.read(CHUNK_SIZE), b""))
            job.set_attributes(disk_format=target, container_format="bare", size=size)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(dest)
