/* Output on the PL011 UART of QEMU's virt machine. */
#ifndef DEMO_CONSOLE_H
#define DEMO_CONSOLE_H

/* One line "tagvirt-demo: <formatted>\n". Supports %s %c %u %x %lu %lx and a
 * zero-padded width such as %016lx. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
