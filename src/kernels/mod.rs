//! Parallel matrix kernels, serial and parallel (issue: kernels).
