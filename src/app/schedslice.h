/*
 * A short scheduler slice for the workers, so that a busy neighbour on
 * the same cores cannot keep a worker off its CPU for milliseconds.
 */
#ifndef SCHEDSLICE_H
#define SCHEDSLICE_H

/* Asks for slice_us microseconds per slice; 0 keeps the kernel's. */
void	sched_slice_apply(int slice_us);

#endif
