"""Sub-command modules for :mod:`gluteutils.cli`; each exposes ``register(subparsers)``.

A handler is attached with ``parser.set_defaults(handler=func)``; ``func(args)`` returns the
exit code (0 = success).
"""
