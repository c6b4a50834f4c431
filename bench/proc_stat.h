/* proc_stat: CPU time and memory of a process, from /proc/<pid>/stat and
 * /proc/<pid>/status (Linux), and of the calling process from getrusage.
 * The load tool samples a server before and after a run to get its CPU
 * time per delivery. Thread-safe (no state). */
#ifndef ORDERS_PROC_STAT_H
#define ORDERS_PROC_STAT_H

#include <sys/types.h>

struct proc_stat {
	double cpu_s; /* user + system time, seconds (clock-tick resolution) */
	long rss_kb;  /* VmRSS: resident memory now */
	long hwm_kb;  /* VmHWM: peak resident memory */
};

/* Read process pid's figures into *s. 0, or -1 (no such process, no
 * permission) with *s zeroed. */
int proc_stat_read(pid_t pid, struct proc_stat *s) __attribute__((warn_unused_result));
/* CPU time (user + system, seconds) used so far by the calling process. */
double proc_stat_self_cpu(void);

#endif
