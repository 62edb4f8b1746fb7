/* tagvirt demo guest: entry point and EL1 exception vectors.
 * QEMU virt (no virtualization=on) starts here at EL1 with the MMU off. */
	.equ	FRAME_SIZE, 256		/* struct demo_frame: x0-x30 and ELR_EL1 */
	.equ	PSCI_SYSTEM_OFF, 0x84000008

	.section .text.boot, "ax"
	.global	_start
_start:
	msr	daifset, #0xf
	ldr	x0, =__stack_top
	mov	sp, x0
	/* MMU off: RAM is Device memory here, so only aligned 8-byte stores */
	ldr	x0, =__bss_start
	ldr	x1, =__bss_end
1:	cmp	x0, x1
	b.hs	2f
	str	xzr, [x0], #8
	b	1b
2:	ldr	x0, =demo_vectors
	msr	vbar_el1, x0
	isb
	bl	demo_main
	b	demo_power_off

/* PSCI SYSTEM_OFF through HVC (the conduit of QEMU virt without EL2) */
	.global	demo_power_off
demo_power_off:
	ldr	x0, =PSCI_SYSTEM_OFF
	hvc	#0
	.global	demo_halt
demo_halt:
	wfi
	b	demo_halt

	.ltorg

/* Every vector saves the frame and calls demo_exception(frame, vector index). */
	.macro	vector index
	.balign	0x80
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp, #16 * 0]
	mov	x1, #\index
	b	exception_common
	.endm

	.text
	.balign	0x800
	.global	demo_vectors
demo_vectors:
	.irp	i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	vector	\i
	.endr

exception_common:
	stp	x2, x3, [sp, #16 * 1]
	stp	x4, x5, [sp, #16 * 2]
	stp	x6, x7, [sp, #16 * 3]
	stp	x8, x9, [sp, #16 * 4]
	stp	x10, x11, [sp, #16 * 5]
	stp	x12, x13, [sp, #16 * 6]
	stp	x14, x15, [sp, #16 * 7]
	stp	x16, x17, [sp, #16 * 8]
	stp	x18, x19, [sp, #16 * 9]
	stp	x20, x21, [sp, #16 * 10]
	stp	x22, x23, [sp, #16 * 11]
	stp	x24, x25, [sp, #16 * 12]
	stp	x26, x27, [sp, #16 * 13]
	stp	x28, x29, [sp, #16 * 14]
	mrs	x2, elr_el1
	stp	x30, x2, [sp, #16 * 15]
	mov	x0, sp
	bl	demo_exception
	ldp	x30, x2, [sp, #16 * 15]
	msr	elr_el1, x2
	ldp	x28, x29, [sp, #16 * 14]
	ldp	x26, x27, [sp, #16 * 13]
	ldp	x24, x25, [sp, #16 * 12]
	ldp	x22, x23, [sp, #16 * 11]
	ldp	x20, x21, [sp, #16 * 10]
	ldp	x18, x19, [sp, #16 * 9]
	ldp	x16, x17, [sp, #16 * 8]
	ldp	x14, x15, [sp, #16 * 7]
	ldp	x12, x13, [sp, #16 * 6]
	ldp	x10, x11, [sp, #16 * 5]
	ldp	x8, x9, [sp, #16 * 4]
	ldp	x6, x7, [sp, #16 * 3]
	ldp	x4, x5, [sp, #16 * 2]
	ldp	x2, x3, [sp, #16 * 1]
	ldp	x0, x1, [sp, #16 * 0]
	add	sp, sp, #FRAME_SIZE
	eret
