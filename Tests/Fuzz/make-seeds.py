#!/usr/bin/env python3
"""Writes the generated seeds of Tests/Fuzz/Corpus (the committed corpus also holds copies of
files from samples/ and etc/; see Tests/Fuzz/README.md). Re-run after changing a format."""
import json, os, struct, zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def png(path, width, height, bit_depth, color_type, rows, interlace=0, extra=()):
    """A PNG from already-filtered scanlines (filter byte 0 is added per row)."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff)
    raw = b"".join(b"\x00" + r for r in rows)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace))
    for kind, body in extra:
        data += chunk(kind, body)
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    open(os.path.join(HERE, "Corpus", "png", path), "wb").write(data)
    open(os.path.join(HERE, "Corpus", "cpng", path), "wb").write(data)


def pngs():
    png("gray1-3x2.png", 3, 2, 1, 0, [bytes([0b10100000]), bytes([0b01000000])])
    png("gray4-2x2-trns.png", 2, 2, 4, 0, [bytes([0x1f]), bytes([0xf1])], extra=[(b"tRNS", struct.pack(">H", 1))])
    png("palette2-4x1-trns.png", 4, 1, 2, 3, [bytes([0b00011011])],
        extra=[(b"PLTE", bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9])), (b"tRNS", bytes([0, 128]))])
    png("graya8-2x2.png", 2, 2, 8, 4, [bytes([10, 255, 20, 0]), bytes([30, 128, 40, 64])])
    png("rgba8-2x1.png", 2, 1, 8, 6, [bytes([1, 2, 3, 255, 4, 5, 6, 7])])
    png("rgb16-1x2.png", 1, 2, 16, 2, [bytes([0, 1, 2, 3, 4, 5]), bytes([255, 255, 0, 0, 128, 0])])
    png("gray8-1x1-adam7.png", 1, 1, 8, 0, [bytes([200])], interlace=1)


def safetensors():
    """A 4×4 gray model: conv2d(2, 3×3, pad 1) → batchnorm → relu → maxpool 2 → dense 3."""
    arch = [{"type": "conv2d", "filters": 2, "size": 3, "padding": 1, "stride": 1, "dilation": 1, "bias": True},
            {"type": "batchnorm", "momentum": 0.1, "epsilon": 1e-5}, {"type": "relu"},
            {"type": "maxpool", "size": 2, "stride": 2}, {"type": "dense", "units": 3}]
    # Layer indices count the flatten the network inserts before dense (index 4).
    tensors = [("layers.0.weight", [2, 1, 3, 3]), ("layers.0.bias", [2]),
               ("layers.1.weight", [2]), ("layers.1.bias", [2]), ("layers.1.running_mean", [2]), ("layers.1.running_var", [2]),
               ("layers.5.weight", [3, 8]), ("layers.5.bias", [3])]
    header = {"__metadata__": {
        "format": "convd-model", "format_version": "1",
        "input": json.dumps({"width": 4, "height": 4, "channels": 1, "mean": 0.5, "std": 0.25}),
        "labels": json.dumps(["a", "b", "c"]),
        "architecture": json.dumps(arch),
        "provenance": json.dumps({"seed": "fuzz"})}}
    offset, body = 0, b""
    for name, shape in tensors:
        count = 1
        for d in shape:
            count *= d
        values = [((i * 7) % 11 - 5) / 10 for i in range(count)]
        if name.endswith("running_var"):
            values = [1.0] * count
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + 4 * count]}
        body += struct.pack("<%df" % count, *values)
        offset += 4 * count
    text = json.dumps(header, separators=(",", ":")).encode()
    data = struct.pack("<Q", len(text)) + text + body
    open(os.path.join(HERE, "Corpus", "safetensors", "tiny-4x4.safetensors"), "wb").write(data)


if __name__ == "__main__":
    pngs()
    safetensors()
