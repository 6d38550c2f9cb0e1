//! Timing: bench, statistics, machine probe, sweeps (issue: timing).
