#!/usr/bin/env python3
"""Checks GoNB notebooks (standard library only; run with /usr/bin/python3).

    check.py --source NB.ipynb [--executed OUT.ipynb] [--png-dir DIR]

--source: the committed notebook must carry no outputs (outputs cleared,
no execution counts), so that the repository never holds executed images.

--executed: the copy written by `jupyter nbconvert --execute` must have no
error output, and every figure cell — a code cell that calls
gonbui.DisplayPNG, or one tagged "figure" — must have produced at least one
display_data output with an image/png that decodes as a PNG of sensible size.
With --png-dir the images are written there (NAME-cellNN-K.png) to look at.

Exits 1, listing every problem, when a check fails.
"""
import argparse
import base64
import html
import json
import os
import re
import struct
import sys


def source_text(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def is_figure_cell(cell):
    if cell.get("cell_type") != "code":
        return False
    tags = cell.get("metadata", {}).get("tags", [])
    return "figure" in tags or "gonbui.DisplayPNG" in source_text(cell)


def png_size(data):
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def text_of(value):
    return "".join(value) if isinstance(value, list) else (value or "")


def explain(outs):
    """The cell's text, stderr and HTML outputs (GoNB shows compiler errors
    as HTML), as plain text, to say why a cell failed."""
    parts = []
    for o in outs:
        if o.get("output_type") == "stream":
            parts.append(text_of(o.get("text")))
        elif "text/html" in o.get("data", {}):
            h = text_of(o["data"]["text/html"])
            h = re.sub(r"(?s)<style.*?</style>", "", h)
            h = re.sub(r"(?s)<div class=\"gonb-err-context\".*?</div>", "", h)
            parts.append(html.unescape(re.sub(r"<[^>]+>", "", h)))
    out = re.sub(r"\n\s*\n+", "\n", "\n".join(parts)).strip()
    return out[-4000:]


def check_source(path):
    problems = []
    nb = json.load(open(path, encoding="utf-8"))
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"{path}: cell {i} has outputs: clear them before committing")
        if cell.get("execution_count") is not None:
            problems.append(f"{path}: cell {i} has an execution count: clear outputs before committing")
    if nb.get("metadata", {}).get("kernelspec", {}).get("name") != "gonb":
        problems.append(f"{path}: kernelspec is not gonb")
    return problems


def check_executed(path, png_dir):
    problems = []
    nb = json.load(open(path, encoding="utf-8"))
    name = os.path.splitext(os.path.basename(path))[0]
    figures = images = 0
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        outs = cell.get("outputs", [])
        for o in outs:
            if o.get("output_type") == "error":
                problems.append(f"{path}: cell {i}: error output: {o.get('ename')}: {o.get('evalue')}\n"
                                + explain(outs))
        pngs = [o["data"]["image/png"] for o in outs
                if o.get("output_type") in ("display_data", "execute_result") and "image/png" in o.get("data", {})]
        if is_figure_cell(cell):
            figures += 1
            if not pngs:
                problems.append(f"{path}: figure cell {i} produced no image/png output")
        for k, b64 in enumerate(pngs):
            raw = base64.b64decode("".join(b64) if isinstance(b64, list) else b64)
            size = png_size(raw)
            if size is None:
                problems.append(f"{path}: cell {i}: image {k} is not a PNG")
                continue
            w, h = size
            if w < 100 or h < 100:
                problems.append(f"{path}: cell {i}: image {k} is only {w}x{h} pixels")
            images += 1
            if png_dir:
                os.makedirs(png_dir, exist_ok=True)
                with open(os.path.join(png_dir, f"{name}-cell{i:02d}-{k}.png"), "wb") as f:
                    f.write(raw)
    if figures == 0:
        problems.append(f"{path}: no figure cells (gonbui.DisplayPNG) at all")
    print(f"{name}: {figures} figure cells, {images} images, {len(problems)} problems")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", action="append", default=[], help="committed notebook (no outputs)")
    ap.add_argument("--executed", action="append", default=[], help="executed notebook")
    ap.add_argument("--png-dir", help="write the images here")
    args = ap.parse_args()
    problems = []
    for p in args.source:
        problems += check_source(p)
    for p in args.executed:
        problems += check_executed(p, args.png_dir)
    for p in problems:
        print("FAIL:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
