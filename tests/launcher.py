"""The ``accelerate launch`` command line the multi-process tests run: two CPU processes."""

import socket
import sys


def accelerate_launch() -> list[str]:
    """Two processes through torchrun, on a free port rather than torchrun's fixed 29500.

    ``--multi_gpu`` starts one process per rank; without GPUs they work together over gloo
    (``--cpu --num_processes 2`` would start a single process). A fixed port made two
    launches at once (two test runs on one machine) fail each other.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
            "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
            "--main_process_port", str(port)]
