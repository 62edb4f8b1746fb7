/* tagvirt's save image (managed save, virsh save/restore; docs/migration.rst,
 * "Save and restore"): one file that holds everything a restore needs.
 *
 *   offset 0   header, 96 bytes, little-endian:
 *                0  magic "TagvirtSaveImage" (16 bytes, no NUL)
 *               16  u32 version (1)
 *               20  u32 header length (96)
 *               24  u32 length of the domain XML
 *               28  u32 length of the guest ABI record
 *               32  u32 flags (bit 0: the guest was running when saved)
 *               36  u32 reserved, 0
 *               40  u64 offset of QEMU's migration stream
 *               48  u64 length of QEMU's migration stream (0: not finished)
 *               56  u64 reserved, 0
 *               64  SHA-256 of the migration stream (32 bytes)
 *   96         the domain XML (migratable: the MTE level is a number)
 *   ...        the guest ABI record: one <guestabi/> element (domain_guest_abi.h)
 *   ...        zeros up to the next multiple of 4096
 *   stream     QEMU's migration stream, as QEMU wrote it (under TCG with MTE
 *              it carries the tag storage RAM block mach-virt.tag)
 *
 * The file must end where the stream ends.  A writer puts the header with a
 * stream length of 0 first and the real length last, so a save that never
 * finished can never be restored. */
#pragma once

#include "domain_guest_abi.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define TV_SAVE_IMAGE_MAGIC      "TagvirtSaveImage"
#define TV_SAVE_IMAGE_VERSION    1
#define TV_SAVE_IMAGE_HEADER_LEN 96
#define TV_SAVE_IMAGE_DIGEST_LEN 32
#define TV_SAVE_IMAGE_ALIGN      4096
#define TV_SAVE_IMAGE_XML_MAX    (16u * 1024 * 1024)
#define TV_SAVE_IMAGE_ABI_MAX    (64u * 1024)

enum {
    TV_SAVE_IMAGE_RUNNING = 1 << 0, /* the guest ran when it was saved */
};

typedef struct {
    char *xml; /* the domain XML */
    TvDomainGuestAbi abi;
    unsigned flags; /* TV_SAVE_IMAGE_* */
    uint64_t stream_offset;
    uint64_t stream_len;
    guint8 digest[TV_SAVE_IMAGE_DIGEST_LEN]; /* SHA-256 of the stream */
} TvSaveImage;

void tv_save_image_clear(TvSaveImage *img);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvSaveImage, tv_save_image_clear)

/* Writes the header (stream length 0), img->xml, img->abi and the padding
 * from offset 0 of fd (a new, empty regular file) and sets
 * img->stream_offset; fd's offset is then the stream's.  0, or -1 with a
 * system error naming path. */
int tv_save_image_write_head(int fd, const char *path, TvSaveImage *img);
/* After the stream was written through fd: records its length (the file's
 * size from stream_offset) and its SHA-256 (read back from path) in the
 * header and flushes the file (fsync).  0, or -1 with an error (an empty
 * stream is one). */
int tv_save_image_finish(int fd, const char *path, TvSaveImage *img);
/* Reads and checks an image from fd (its whole size; path for messages):
 * header, lengths and limits, the record, the file's length.  On success
 * fd's offset is the stream's.  -1 with VIR_ERR_OPERATION_FAILED and
 * "save image 'PATH': <what is wrong>" (the libvirt save image, a foreign
 * file, a newer version, an unfinished save, a truncated file, ...). */
int tv_save_image_read(int fd, const char *path, TvSaveImage *img);
/* Reads the whole stream of an image read by tv_save_image_read and
 * compares its SHA-256 with the header's: 0, or -1 with
 * VIR_ERR_OPERATION_FAILED "save image 'PATH': the migration stream does
 * not match its SHA-256 (the file is corrupt)".  fd's offset is unchanged. */
int tv_save_image_verify(int fd, const char *path, const TvSaveImage *img);
