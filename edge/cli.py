"""`skin-kiosk analyze | serve | check-config` — the command-line face of the product."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from edge import __version__
from edge.config import ConfigError, Settings, load_settings

EXIT_CONFIG = 2  # the kiosk cannot run: bad config or model files
EXIT_SHOP = 3  # check-config --strict: the kiosk would run, but its shop has problems (the warnings say which)


def _load(args: argparse.Namespace) -> Settings | None:
    """Settings, or None after printing the key paths that are wrong."""
    try:
        return load_settings(args.config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return None


def cmd_analyze(args: argparse.Namespace) -> int:
    from edge.envelope import failure, success
    from edge.errors import ErrorKind, SkinKioskError
    from edge.request import decode_image, parse_face_fields, parse_max_face_num

    settings = _load(args)
    if settings is None:
        return EXIT_CONFIG
    try:
        fields = parse_face_fields(args.fields)
        max_faces = parse_max_face_num(args.max_faces)
        try:
            data = Path(args.image).read_bytes()
        except OSError as exc:
            raise SkinKioskError(ErrorKind.NO_IMAGE, f"cannot read {args.image}: {exc.strerror}") from exc
        decoded = decode_image(data, settings.request)

        from edge.pipeline import Engine

        engine = Engine.from_settings(settings)
        engine.check_fields(fields)
        faces = engine.analyze(decoded.image, fields, max_faces=max_faces, extended=args.extended,
                               to_original=decoded.to_original)
        if args.overlay:
            import cv2

            from edge.overlay import draw_faces, draw_findings

            picture = decoded.image
            if args.overlay_regions:
                contexts = engine.face_contexts(decoded.image, max_faces=max_faces, to_original=decoded.to_original)
                picture = draw_faces(picture, contexts)
            cv2.imwrite(str(args.overlay), draw_findings(picture, faces, decoded.to_original))
        envelope = success(faces)
    except SkinKioskError as exc:
        envelope = failure(exc)
    except Exception as exc:  # never a traceback on stdout: report the catalogue's internal error
        print(f"internal error: {exc!r}", file=sys.stderr)
        envelope = failure(SkinKioskError(ErrorKind.INTERNAL_ERROR))
    json.dump(envelope, sys.stdout, indent=2 if args.pretty else None, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0 if envelope["error_code"] == 0 else 1


def shop_warnings(settings: Settings) -> tuple[list[str], list[str]]:
    """(warnings, ok lines) about the shop: its catalogue, admin key, concern table and take-home link.
    None of them stops the kiosk (a broken catalogue disables the shop alone, edge/api/shop_state.py)."""
    from edge.api.server import is_loopback_host
    from edge.api.shop_state import REPORT_LINK_NOTE, load_concern_table, loopback_only
    from edge.config import load_admin_key
    from edge.shop.catalogue import CatalogueError, load_catalogue
    from edge.shop.table import TableError

    warnings: list[str] = []
    ok: list[str] = []
    try:
        load_admin_key(settings.catalogue)
    except ConfigError as exc:
        warnings.append(f"{exc}; catalogue replacement over the API is off")
    path = settings.catalogue.path
    try:
        catalogue = load_catalogue(path, currency=settings.catalogue.currency)
        ok.append(f"catalogue ok: {len(catalogue.products)} products in {catalogue.source}")
    except CatalogueError as exc:
        warnings.append(f"{exc}\n  the kiosk serves without its shop until the catalogue is fixed")
    except Exception as exc:  # a reader's own bug: say what, never a traceback (the service logs one)
        warnings.append(f"cannot read the catalogue {path}: {type(exc).__name__}: {exc}\n"
                        "  the kiosk serves without its shop")
    try:
        load_concern_table()
    except TableError as exc:
        warnings.append(f"concern table: {exc}\n  the kiosk serves without its shop")
    base = settings.shop.report_base_url
    if base is None or loopback_only(base):
        where = "is not set" if base is None else f"is {base}, this device only"
        warnings.append(f"shop.report_base_url {where}: take-home QR codes would point at the kiosk's own "
                        f"loopback (the page is loaded from http://127.0.0.1:{settings.api.port}/), which no "
                        f"phone can open; the page says so instead of showing a QR code. {REPORT_LINK_NOTE}")
    elif is_loopback_host(settings.api.host):
        warnings.append(f"shop.report_base_url is {base} but api.host {settings.api.host} listens on this device "
                        f"only: phones cannot reach the take-home link. {REPORT_LINK_NOTE}")
    return warnings, ok


def cmd_check_config(args: argparse.Namespace) -> int:
    """Exit 2 when the kiosk cannot run (config, model files); shop problems are warnings: exit 0, or
    EXIT_SHOP with --strict. systemd's ExecStartPre runs the lenient form, so a broken catalogue never
    stops the kiosk."""
    settings = _load(args)
    if settings is None:
        return EXIT_CONFIG
    from edge.runtime.manifest import ModelError, load_manifest, verify_file

    try:
        for entry in load_manifest(settings.runtime.manifest).values():
            verify_file(settings.runtime.models_dir / entry.file, entry.sha256)
    except ModelError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    warnings, ok = shop_warnings(settings)
    for line in ok:
        print(line)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if warnings:
        print(f"config ok; the shop has {len(warnings)} warning(s) (the kiosk runs; "
              f"--strict exits {EXIT_SHOP} on them)")
        return EXIT_SHOP if args.strict else 0
    print("config ok")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from edge.serve import serve

    settings = _load(args)
    if settings is None:
        return EXIT_CONFIG
    return serve(settings, host=args.host, port=args.port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skin-kiosk", description="Offline, on-device skin analysis.")
    parser.add_argument("--version", action="version", version=f"skin-kiosk {__version__}")
    parser.add_argument("--config", type=Path, default=None, help="config.yaml (default: $SKIN_KIOSK_CONFIG or ./config.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)

    a = sub.add_parser("analyze", help="analyse a photo and print the seed JSON envelope")
    a.add_argument("image", help="JPG, PNG or BMP file")
    a.add_argument("--fields", default=None, help="comma-separated face_field names, or 'all'")
    a.add_argument("--max-faces", default=None, help="max_face_num, 1-10 (default 1: the largest face)")
    a.add_argument("--extended", action="store_true", help="add the `extended` object (scores, ITA...)")
    a.add_argument("--overlay", type=Path, default=None,
                   help="write what was found (lesion boxes, wrinkles, eye areas, pores; a legend) to this PNG")
    a.add_argument("--overlay-regions", action="store_true",
                   help="with --overlay: also the face box, landmarks, mesh and region outlines")
    a.add_argument("--pretty", action="store_true", help="indent the JSON")
    a.set_defaults(func=cmd_analyze)

    c = sub.add_parser("check-config", help="validate config.yaml and the model files (exit 2), and warn about the "
                       "shop: its catalogue, admin key and take-home link (exit 0, or 3 with --strict)")
    # `skin-kiosk check-config FILE`, as `promtool check config FILE`; `--config FILE check-config` too
    c.add_argument("file", nargs="?", type=Path, default=None, help="the config file to check (same as --config)")
    c.add_argument("--strict", action="store_true",
                   help=f"exit {EXIT_SHOP} on shop warnings too (catalogue, admin key, take-home link): for the "
                   "store's admin after editing the catalogue; the service's start check is lenient")
    c.set_defaults(func=cmd_check_config)

    s = sub.add_parser("serve", help="run the API + kiosk UI (and capture, when configured)")
    s.add_argument("--host", default=None)
    s.add_argument("--port", type=int, default=None)
    s.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    file = getattr(args, "file", None)
    if file is not None:
        if args.config is not None and args.config != file:
            parser.error(f"two config files given: --config {args.config} and {file}; give one")
        args.config = file
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
