/* PL011 output and a minimal formatter, enough for register dumps. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "console.h"

#define UART_BASE    0x09000000UL
#define UART_DR      (UART_BASE + 0x00)
#define UART_FR      (UART_BASE + 0x18)
#define UART_FR_TXFF (1u << 5)

static void put_char(char c)
{
    while (*(volatile uint32_t *)UART_FR & UART_FR_TXFF) {
    }
    *(volatile uint32_t *)UART_DR = (uint32_t)(unsigned char)c;
}

static void put_str(const char *s)
{
    while (*s) {
        put_char(*s++);
    }
}

static void put_num(uint64_t val, unsigned base, unsigned width, char pad)
{
    char digits[20];
    unsigned n = 0;

    do {
        unsigned d = (unsigned)(val % base);
        digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        val /= base;
    } while (val);
    while (width > n) {
        put_char(pad);
        width--;
    }
    while (n) {
        put_char(digits[--n]);
    }
}

static void vformat(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put_char(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        unsigned width = 0;
        bool is_long = false;

        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9') {
            width = width * 10 + (unsigned)(*fmt++ - '0');
        }
        if (*fmt == 'l') {
            is_long = true;
            fmt++;
        }
        switch (*fmt) {
        case 's':
            put_str(va_arg(ap, const char *));
            break;
        case 'c':
            put_char((char)va_arg(ap, int));
            break;
        case 'u':
        case 'x': {
            uint64_t val = is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
            put_num(val, *fmt == 'u' ? 10 : 16, width, pad);
            break;
        }
        case '%':
            put_char('%');
            break;
        case '\0':
            return;
        default:
            put_char('?');
            break;
        }
    }
}

void say(const char *fmt, ...)
{
    va_list ap;

    put_str("tagvirt-demo: ");
    va_start(ap, fmt);
    vformat(fmt, ap);
    va_end(ap);
    put_char('\n');
}
