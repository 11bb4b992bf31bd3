"""Run the MusicGen Workbench in the browser: ``python app.py --model tiny`` (see ``workbench serve --help``)."""

import argparse
import os

from workbench.ui.app import build_ui, launch_options


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="MusicGen Workbench in the browser (binds 127.0.0.1 by default).")
    parser.add_argument("--model", default="small", help="model selected at start (tiny works offline)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind; others need --auth")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--out", default="outputs", help="output folder (takes, history)")
    parser.add_argument("--prompts", default="prompts", help="folder of prompt files")
    parser.add_argument("--share", action="store_true", help="public share link (use with --auth)")
    parser.add_argument("--auth", default=None, help="user:password required to open the app")
    parser.add_argument("--concurrency", type=int, default=1, help="model jobs run at once")
    parser.add_argument("--max-queue", type=int, default=16, help="most jobs waiting in the queue")
    args = parser.parse_args(argv)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    demo = build_ui(model=args.model, out=args.out, prompts=args.prompts, concurrency=args.concurrency)
    demo.queue(default_concurrency_limit=args.concurrency, max_size=args.max_queue).launch(
        **launch_options(out=args.out, host=args.host, port=args.port, share=args.share, auth=args.auth))


if __name__ == "__main__":
    main()
