/*
 * mtetest: runs inside the Linux test guest and reports what MTE the guest really has.
 *
 * Built static for aarch64 (-march=armv8.5-a+memtag).  Every result line starts with
 * "MTETEST " so the host can pick them out of the console:
 *   MTETEST features=<Features words, comma separated>
 *   MTETEST cpuinfo_mte=0|1 cpuinfo_mte3=0|1 hwcap_mte=0|1 hwcap_mte3=0|1
 *   MTETEST tag=<n> access=ok            (MTE only: a correctly tagged access)
 *   MTETEST fault=SEGV_MTESERR|none|skipped|<other>
 *   MTETEST result=PASS|FAIL level=3|2|0
 *
 * "mtetest --loop" (the guest kit's tagvirt.guest=mteloop mode) instead keeps
 * one tagged buffer and checks it for ever, one line a second:
 *   MTELOOP pid=<pid> start granules=<n> tags=<first tags>
 *   MTELOOP pid=<pid> check=<n> tags=ok|BAD(<granule>:<stored>!=<set>) data=ok|BAD
 *           wrong_tag=<t> fault=SEGV_MTESERR|none|SIGSEGV-code-N
 * Every check reads back (ldg) the tag of each granule set once at the start
 * and the bytes written through it, then makes one access with a wrong tag,
 * which must fault: a guest moved to another host (a live migration) must go
 * on with the same pid and count, its tags intact and tag checking active.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Values from the Linux UAPI, spelled out so older cross headers still build this. */
#define MT_HWCAP2_MTE         (1UL << 18)
#define MT_HWCAP2_MTE3        (1UL << 22)
#define MT_PROT_MTE           0x20
#define MT_PR_SET_TAGGED_ADDR 55
#define MT_PR_TAGGED_ADDR_EN  (1UL << 0)
#define MT_PR_MTE_TCF_SYNC    (1UL << 1)
#define MT_PR_MTE_TAG_SHIFT   3
#define MT_SEGV_MTESERR       9
#define MT_GRANULE            16

static sigjmp_buf fault_jmp;
static volatile sig_atomic_t fault_code;

static void segv_handler(int sig, siginfo_t *info, void *uctx)
{
    (void)sig;
    (void)uctx;
    fault_code = info->si_code;
    siglongjmp(fault_jmp, 1);
}

static int has_word(const char *line, const char *word)
{
    size_t len = strlen(word);
    const char *p = line;

    while ((p = strstr(p, word)) != NULL) {
        int starts = p == line || p[-1] == ' ' || p[-1] == '\t';
        int ends = p[len] == '\0' || p[len] == ' ' || p[len] == '\n';
        if (starts && ends)
            return 1;
        p += len;
    }
    return 0;
}

/* Copies the words after "Features\t: " of the first CPU into buf, space separated. */
static int read_features(char *buf, size_t size)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[1024];

    buf[0] = '\0';
    if (!f) {
        printf("MTETEST error=cannot-open-/proc/cpuinfo errno=%d\n", errno);
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        char *colon;
        if (strncmp(line, "Features", 8) != 0 || !(colon = strchr(line, ':')))
            continue;
        colon++;
        while (*colon == ' ')
            colon++;
        colon[strcspn(colon, "\n")] = '\0';
        snprintf(buf, size, "%s", colon);
        break;
    }
    fclose(f);
    return 0;
}

static void *with_tag(void *p, unsigned tag)
{
    return (void *)(((uintptr_t)p & ~(0xfUL << 56)) | ((uintptr_t)tag << 56));
}

/* Returns the fault name, or "none" when the mismatched access went through. */
static const char *check_tag_fault(int *ok)
{
    struct sigaction sa = { 0 };
    unsigned char *mem, *tagged, *wrong;
    unsigned tag, wrong_tag;
    static char other[32];

    *ok = 0;
    if (prctl(MT_PR_SET_TAGGED_ADDR,
              MT_PR_TAGGED_ADDR_EN | MT_PR_MTE_TCF_SYNC | (0xfffeUL << MT_PR_MTE_TAG_SHIFT), 0, 0,
              0) != 0) {
        printf("MTETEST error=prctl errno=%d\n", errno);
        return "error";
    }
    mem =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE | MT_PROT_MTE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        printf("MTETEST error=mmap-prot-mte errno=%d\n", errno);
        return "error";
    }

    /* irg picks a random tag from the prctl's include mask (1..15); stg stores it. */
    __asm__ volatile("irg %0, %1" : "=r"(tagged) : "r"(mem));
    __asm__ volatile("stg %0, [%0]" : : "r"(tagged) : "memory");
    tag = (unsigned)((uintptr_t)tagged >> 56) & 0xf;

    *(volatile unsigned char *)tagged = 0x5a;
    if (*(volatile unsigned char *)tagged != 0x5a) {
        printf("MTETEST tag=%u access=bad-value\n", tag);
        return "error";
    }
    printf("MTETEST tag=%u access=ok\n", tag);

    wrong_tag = tag == 15 ? 1 : tag + 1;
    wrong = with_tag(mem, wrong_tag);

    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    fault_code = 0;
    fflush(stdout);
    if (sigsetjmp(fault_jmp, 1) == 0) {
        (void)*(volatile unsigned char *)wrong;
        signal(SIGSEGV, SIG_DFL);
        printf("MTETEST wrong_tag=%u\n", wrong_tag);
        return "none";
    }
    signal(SIGSEGV, SIG_DFL);
    printf("MTETEST wrong_tag=%u si_code=%d\n", wrong_tag, (int)fault_code);
    if (fault_code == MT_SEGV_MTESERR) {
        *ok = 1;
        return "SEGV_MTESERR";
    }
    snprintf(other, sizeof(other), "SIGSEGV-code-%d", (int)fault_code);
    return other;
}

#define LOOP_BYTES (64 * 1024)

static unsigned loop_tag(size_t granule)
{
    return 1 + (unsigned)(granule * 7 % 15); /* 1..15, never 0 */
}

/* Read through p (whose tag is wrong): the fault's name, or "none". */
static const char *wrong_access(unsigned char *p, char *other, size_t size)
{
    struct sigaction sa = { 0 };
    const char *fault;

    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    fault_code = 0;
    if (sigsetjmp(fault_jmp, 1) == 0) {
        (void)*(volatile unsigned char *)p;
        fault = "none";
    } else if (fault_code == MT_SEGV_MTESERR) {
        fault = "SEGV_MTESERR";
    } else {
        snprintf(other, size, "SIGSEGV-code-%d", (int)fault_code);
        fault = other;
    }
    signal(SIGSEGV, SIG_DFL);
    return fault;
}

static int loop_mode(void)
{
    size_t granules = LOOP_BYTES / MT_GRANULE, g, bad_g = 0;
    unsigned char *mem;
    unsigned long check = 0;
    pid_t pid = getpid();

    if (!(getauxval(AT_HWCAP2) & MT_HWCAP2_MTE)) {
        printf("MTELOOP pid=%d error=no-mte\n", (int)pid);
        return 1;
    }
    if (prctl(MT_PR_SET_TAGGED_ADDR,
              MT_PR_TAGGED_ADDR_EN | MT_PR_MTE_TCF_SYNC | (0xfffeUL << MT_PR_MTE_TAG_SHIFT), 0, 0,
              0) != 0) {
        printf("MTELOOP pid=%d error=prctl errno=%d\n", (int)pid, errno);
        return 1;
    }
    mem = mmap(NULL, LOOP_BYTES, PROT_READ | PROT_WRITE | MT_PROT_MTE, MAP_PRIVATE | MAP_ANONYMOUS,
               -1, 0);
    if (mem == MAP_FAILED) {
        printf("MTELOOP pid=%d error=mmap-prot-mte errno=%d\n", (int)pid, errno);
        return 1;
    }
    for (g = 0; g < granules; g++) {
        unsigned char *p = with_tag(mem + g * MT_GRANULE, loop_tag(g));
        __asm__ volatile("stg %0, [%0]" : : "r"(p) : "memory");
        memset(p, (int)(g & 0xff), MT_GRANULE);
    }
    printf("MTELOOP pid=%d start granules=%zu tags=%u,%u,%u,%u\n", (int)pid, granules, loop_tag(0),
           loop_tag(1), loop_tag(2), loop_tag(3));
    for (;;) {
        unsigned stored = 0, wrong_tag;
        int tags_ok = 1, data_ok = 1;
        const char *fault;
        char other[32];

        check++;
        for (g = 0; g < granules && tags_ok && data_ok; g++) {
            unsigned char *p = with_tag(mem + g * MT_GRANULE, 0);
            size_t i;
            /* ldg: the tag stored for this granule, into the pointer's top byte */
            __asm__ volatile("ldg %0, [%0]" : "+r"(p));
            stored = (unsigned)((uintptr_t)p >> 56) & 0xf;
            if (stored != loop_tag(g)) {
                tags_ok = 0;
                bad_g = g;
                break;
            }
            for (i = 0; i < MT_GRANULE; i++)
                if (((volatile unsigned char *)p)[i] != (unsigned char)(g & 0xff))
                    data_ok = 0;
            if (!data_ok)
                bad_g = g;
        }
        /* one access with the wrong tag must fault (tag checking is on) */
        g = check % granules;
        wrong_tag = loop_tag(g) == 15 ? 1 : loop_tag(g) + 1;
        fault = wrong_access(with_tag(mem + g * MT_GRANULE, wrong_tag), other, sizeof(other));
        if (tags_ok)
            printf("MTELOOP pid=%d check=%lu tags=ok", (int)pid, check);
        else
            printf("MTELOOP pid=%d check=%lu tags=BAD(%zu:%u!=%u)", (int)pid, check, bad_g, stored,
                   loop_tag(bad_g));
        printf(" data=%s wrong_tag=%u fault=%s\n", data_ok ? "ok" : "BAD", wrong_tag, fault);
        sleep(1);
    }
}

int main(int argc, char **argv)
{
    char features[768], commas[768];
    unsigned long hwcap2 = getauxval(AT_HWCAP2);
    int cpu_mte, cpu_mte3, hw_mte, hw_mte3, fault_ok = 0, pass, level;
    const char *fault = "skipped";
    size_t i;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "--loop") == 0)
        return loop_mode();
    read_features(features, sizeof(features));
    for (i = 0; features[i] && i < sizeof(commas) - 1; i++)
        commas[i] = features[i] == ' ' ? ',' : features[i];
    commas[i] = '\0';
    printf("MTETEST features=%s\n", commas);

    cpu_mte = has_word(features, "mte");
    cpu_mte3 = has_word(features, "mte3");
    hw_mte = (hwcap2 & MT_HWCAP2_MTE) != 0;
    hw_mte3 = (hwcap2 & MT_HWCAP2_MTE3) != 0;
    printf("MTETEST cpuinfo_mte=%d cpuinfo_mte3=%d hwcap_mte=%d hwcap_mte3=%d\n", cpu_mte, cpu_mte3,
           hw_mte, hw_mte3);

    /* Tag instructions would be undefined without MTE: only try when the kernel says so. */
    if (hw_mte)
        fault = check_tag_fault(&fault_ok);
    printf("MTETEST fault=%s\n", fault);

    level = hw_mte3 ? 3 : hw_mte ? 2 : 0;
    pass =
        cpu_mte == hw_mte && cpu_mte3 == hw_mte3 && (!hw_mte3 || hw_mte) && (hw_mte ? fault_ok : 1);
    printf("MTETEST result=%s level=%d\n", pass ? "PASS" : "FAIL", level);
    return pass ? 0 : 1;
}
