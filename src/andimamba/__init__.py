"""andimamba: anomalous-diffusion analysis of single-particle tracks with a bidirectional Mamba.

Data flow (one subpackage or module per stage)::

    sim/ -> features -> nn/ -> segments -> io/, metrics, plots -> cli
"""

__version__ = "0.1.0"
