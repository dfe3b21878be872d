/* libstdc++ as Debian's riscv64-linux-gnu cross compiler ships it was
 * configured for glibc, and its <bits/os_defines.h> includes this header
 * first of all to learn the glibc version. This C library is not glibc:
 * every version test says no. */
#ifndef _UKOS_FEATURES_H
#define _UKOS_FEATURES_H

#define __GLIBC_PREREQ(major, minor) 0

#endif
