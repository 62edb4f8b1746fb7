/* tagvirt guest-ABI probe: print ID_AA64PFR1_EL1 and ID_AA64PFR2_EL1 on the
 * PL011 UART of QEMU's virt machine, then power off with PSCI SYSTEM_OFF.
 * Output: "TAGVIRT-PROBE PFR1=<16 hex> PFR2=<16 hex>\n" */
	.equ	UART_DR, 0x09000000
	.equ	PSCI_SYSTEM_OFF, 0x84000008

	.section .text.boot, "ax"
	.global	_start
_start:
	ldr	x19, =UART_DR
	adr	x0, banner
	bl	puts
	mrs	x0, ID_AA64PFR1_EL1
	bl	puthex
	adr	x0, pfr2_label
	bl	puts
	/* ID_AA64PFR2_EL1 by encoding: reads as zero where the CPU lacks it */
	mrs	x0, S3_0_C0_C4_2
	bl	puthex
	mov	w0, #'\n'
	strb	w0, [x19]
	ldr	x0, =PSCI_SYSTEM_OFF
	hvc	#0
1:	wfi
	b	1b

/* puts(x0): NUL-terminated string to the UART */
puts:
	ldrb	w1, [x0], #1
	cbz	w1, 2f
	strb	w1, [x19]
	b	puts
2:	ret

/* puthex(x0): 16 hex digits */
puthex:
	mov	x2, #60
3:	lsr	x1, x0, x2
	and	x1, x1, #0xf
	cmp	x1, #10
	add	x3, x1, #'0'
	add	x4, x1, #('a' - 10)
	csel	x1, x3, x4, lo
	strb	w1, [x19]
	subs	x2, x2, #4
	b.ge	3b
	ret

banner:	.asciz	"TAGVIRT-PROBE PFR1="
pfr2_label: .asciz " PFR2="
	.ltorg
