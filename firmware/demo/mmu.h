/* Identity map with the first GiB of RAM as Tagged Normal memory. */
#ifndef DEMO_MMU_H
#define DEMO_MMU_H

/* MAIR_EL1 attribute values the map uses (printed by the demo). */
#define MAIR_DEVICE_NGNRE  0x04
#define MAIR_TAGGED_NORMAL 0xf0

/* Turn on the MMU and caches: 0-1 GiB (UART, GIC) Device-nGnRE, 1-2 GiB
 * (RAM from 0x40000000) Tagged Normal write-back; TBI0 on for tagged
 * pointers. Tag checking stays off until tag_setup(). */
void mmu_enable(void);

#endif
