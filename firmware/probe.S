/* tagvirt guest-ABI probe: print ID_AA64PFR1_EL1 and ID_AA64PFR2_EL1 on the
 * PL011 UART of QEMU's virt machine, test the tag storage when the CPU has
 * it (MTE >= 2), then power off with PSCI SYSTEM_OFF.  Output, two lines:
 *   TAGVIRT-PROBE PFR1=<16 hex> PFR2=<16 hex>
 *   TAGVIRT-TAGS none                                      (MTE < 2)
 *   TAGVIRT-TAGS stored=1234 read=<4 hex> access=ok
 *   TAGVIRT-TAGS stored=1234 read=<4 hex> access=fault esr=<16 hex>
 * The tag test (docs/capabilities.rst, "Tag storage self-test"): with the
 * MMU on and RAM mapped Normal Tagged, store tags 1 2 3 4 in four
 * neighbouring 16-byte granules (STG), read each back (LDG), then load
 * through each correctly tagged pointer with synchronous tag checks on: a
 * working emulator reads 1234 and does not fault.  QEMU 7.2 reads 3434 and
 * faults (QEMU gitlab issue 1416, fixed in 8.0). */
	.equ	UART_DR, 0x09000000
	.equ	PSCI_SYSTEM_OFF, 0x84000008
	/* page table and test granules: RAM above the image (virt RAM starts at
	 * 0x40000000, 128 MiB by default) */
	.equ	L1_TABLE, 0x41000000
	.equ	TAG_BUF, 0x41100000

	.equ	DESC_DEVICE, (1 << 0) | (0 << 2) | (1 << 10) | (1 << 53) | (1 << 54)
	.equ	DESC_TAGGED, (1 << 0) | (1 << 2) | (3 << 8) | (1 << 10)
	.equ	MAIR_VALUE, 0x04 | (0xf0 << 8)	/* 0: Device-nGnRE, 1: Normal Tagged */
	/* T0SZ 25, inner/outer WBWA, inner shareable, 4K, T1SZ 25, EPD1, TBI0 */
	.equ	TCR_VALUE, 25 | (1 << 8) | (1 << 10) | (3 << 12) | (25 << 16) | (1 << 23) | (1 << 37)
	/* M, C, I, TCF=1 (synchronous tag-check faults at EL1), ATA (tag access at EL1) */
	.equ	SCTLR_SET, (1 << 0) | (1 << 2) | (1 << 12) | (1 << 40) | (1 << 43)

	.section .text.boot, "ax"
	.global	_start
_start:
	ldr	x19, =UART_DR
	adr	x0, banner
	bl	puts
	mrs	x20, ID_AA64PFR1_EL1
	mov	x0, x20
	bl	puthex
	adr	x0, pfr2_label
	bl	puts
	/* ID_AA64PFR2_EL1 by encoding: reads as zero where the CPU lacks it */
	mrs	x0, S3_0_C0_C4_2
	bl	puthex
	mov	w0, #'\n'
	strb	w0, [x19]
	ubfx	x0, x20, #8, #4
	cmp	x0, #2
	b.hs	tagtest
	adr	x0, tags_none
	bl	puts
poweroff:
	ldr	x0, =PSCI_SYSTEM_OFF
	hvc	#0
1:	wfi
	b	1b

tagtest:
	adr	x0, vectors
	msr	VBAR_EL1, x0
	/* one level-1 table: 0-1 GiB Device (UART), 1-2 GiB Normal Tagged (RAM) */
	ldr	x1, =L1_TABLE
	ldr	x0, =DESC_DEVICE
	str	x0, [x1]
	ldr	x0, =(0x40000000 | DESC_TAGGED)
	str	x0, [x1, #8]
	ldr	x0, =MAIR_VALUE
	msr	MAIR_EL1, x0
	ldr	x0, =TCR_VALUE
	msr	TCR_EL1, x0
	msr	TTBR0_EL1, x1
	dsb	ish
	tlbi	vmalle1
	dsb	ish
	isb
	mrs	x0, SCTLR_EL1
	ldr	x1, =SCTLR_SET
	orr	x0, x0, x1
	msr	SCTLR_EL1, x0
	isb

	adr	x0, tags_stored
	bl	puts
	/* STG: granule i (16 bytes each) gets tag i+1 */
	ldr	x21, =TAG_BUF
	mov	x22, #0
2:	add	x1, x21, x22, lsl #4
	add	x2, x22, #1
	orr	x1, x1, x2, lsl #56
	stg	x1, [x1]
	add	x22, x22, #1
	cmp	x22, #4
	b.lo	2b
	/* LDG: print the tag each granule reads back */
	mov	x22, #0
3:	add	x1, x21, x22, lsl #4
	ldg	x1, [x1]
	ubfx	x1, x1, #56, #4
	bl	puthexdigit
	add	x22, x22, #1
	cmp	x22, #4
	b.lo	3b
	/* correctly tagged loads: a fault goes to the vector below */
	mov	x22, #0
4:	add	x1, x21, x22, lsl #4
	add	x2, x22, #1
	orr	x1, x1, x2, lsl #56
	ldr	x3, [x1]
	add	x22, x22, #1
	cmp	x22, #4
	b.lo	4b
	adr	x0, access_ok
	bl	puts
	b	poweroff

/* A synchronous exception during the tag test: a tag-check fault on a
 * correctly tagged pointer (or anything else: the ESR says which). */
fault:
	adr	x0, access_fault
	bl	puts
	mrs	x0, ESR_EL1
	bl	puthex
	mov	w0, #'\n'
	strb	w0, [x19]
	b	poweroff

/* puts(x0): NUL-terminated string to the UART */
puts:
	ldrb	w1, [x0], #1
	cbz	w1, 5f
	strb	w1, [x19]
	b	puts
5:	ret

/* puthexdigit(x1): one hex digit */
puthexdigit:
	cmp	x1, #10
	add	x3, x1, #'0'
	add	x4, x1, #('a' - 10)
	csel	x1, x3, x4, lo
	strb	w1, [x19]
	ret

/* puthex(x0): 16 hex digits */
puthex:
	mov	x2, #60
6:	lsr	x1, x0, x2
	and	x1, x1, #0xf
	cmp	x1, #10
	add	x3, x1, #'0'
	add	x4, x1, #('a' - 10)
	csel	x1, x3, x4, lo
	strb	w1, [x19]
	subs	x2, x2, #4
	b.ge	6b
	ret

banner:	.asciz	"TAGVIRT-PROBE PFR1="
pfr2_label: .asciz " PFR2="
tags_none: .asciz "TAGVIRT-TAGS none\n"
tags_stored: .asciz "TAGVIRT-TAGS stored=1234 read="
access_ok: .asciz " access=ok\n"
access_fault: .asciz " access=fault esr="
	.ltorg

/* Exception vectors: synchronous exceptions from the current EL (SP0 and
 * SPx) go to fault; the rest cannot happen here. */
	.balign	2048
vectors:
	b	fault
	.balign	0x200
	b	fault
	.balign	0x80
	b	fault
