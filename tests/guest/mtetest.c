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

int main(void)
{
    char features[768], commas[768];
    unsigned long hwcap2 = getauxval(AT_HWCAP2);
    int cpu_mte, cpu_mte3, hw_mte, hw_mte3, fault_ok = 0, pass, level;
    const char *fault = "skipped";
    size_t i;

    setvbuf(stdout, NULL, _IOLBF, 0);
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
