/* <tpm> (domain_tpm.c): a TPM 2.0 the guest sees as QEMU's tpm-tis-device,
 * backed by a per-domain swtpm (backend type='emulator').  Included by
 * domain_conf.h, which holds TvDomainDevices. */
#pragma once

#include "tv_enum.h"

typedef enum {
    TV_TPM_MODEL_DEFAULT = 0, /* not written: the parser sets tpm-tis (aarch64 virt) */
    TV_TPM_MODEL_TIS,         /* tpm-tis-device on the virt machine's system bus */
    TV_TPM_MODEL_CRB,         /* parsed; refused by the QEMU driver (x86 only in QEMU) */
    TV_TPM_MODEL_LAST
} TvTpmModel;
TV_ENUM_DECL(tv_tpm_model) /* "", "tpm-tis", "tpm-crb" */

typedef enum {
    TV_TPM_BACKEND_NONE = 0,
    TV_TPM_BACKEND_EMULATOR, /* swtpm, started by the daemon per domain */
    TV_TPM_BACKEND_LAST
} TvTpmBackend;
TV_ENUM_DECL(tv_tpm_backend) /* "", "emulator" */

typedef struct {
    TvTpmModel model;
    TvTpmBackend backend;
    /* backend version: always "2.0" (written back even when absent, as
     * libvirt does after choosing it) */
    char *alias; /* live: QEMU's id of the device ("tpm0") */
} TvDomainTpm;

void tv_domain_tpm_free(TvDomainTpm *tpm);
