// CRC32C (Castagnoli): the checksum of every record, segment header and index file of the
// log engine. The same polynomial as iSCSI (RFC 3720), ext4 metadata and LevelDB/RocksDB
// blocks, so the SSE4.2 `crc32` instruction computes it: about 8 bytes per 3 cycles,
// against about 1 byte per cycle for the table.

#include "CLogbookCRC.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define LOGBOOK_CRC_X86 1
#endif

/// The reflected Castagnoli polynomial.
static const uint32_t polynomial = 0x82F63B78u;

/// Slicing-by-8 tables: table[0] is the classic byte table; table[k][b] is the CRC of
/// byte b followed by k zero bytes, so eight table look-ups consume eight bytes at once.
static uint32_t table[8][256];
static bool hardware = false;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void initialize(void) {
    for (uint32_t byte = 0; byte < 256; byte++) {
        uint32_t crc = byte;
        for (int bit = 0; bit < 8; bit++) {
            crc = (crc & 1) ? (crc >> 1) ^ polynomial : crc >> 1;
        }
        table[0][byte] = crc;
    }
    for (uint32_t byte = 0; byte < 256; byte++) {
        for (int slice = 1; slice < 8; slice++) {
            uint32_t previous = table[slice - 1][byte];
            table[slice][byte] = (previous >> 8) ^ table[0][previous & 0xFF];
        }
    }
#if LOGBOOK_CRC_X86
    __builtin_cpu_init();
    hardware = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t software(uint32_t crc, const uint8_t *bytes, size_t length) {
    crc = ~crc;
    while (length > 0 && ((uintptr_t)bytes & 7) != 0) {
        crc = (crc >> 8) ^ table[0][(crc ^ *bytes++) & 0xFF];
        length--;
    }
    while (length >= 8) {
        uint32_t low, high;
        memcpy(&low, bytes, 4);
        memcpy(&high, bytes + 4, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        low = __builtin_bswap32(low);
        high = __builtin_bswap32(high);
#endif
        low ^= crc;
        crc = table[7][low & 0xFF] ^ table[6][(low >> 8) & 0xFF] ^ table[5][(low >> 16) & 0xFF]
            ^ table[4][low >> 24] ^ table[3][high & 0xFF] ^ table[2][(high >> 8) & 0xFF]
            ^ table[1][(high >> 16) & 0xFF] ^ table[0][high >> 24];
        bytes += 8;
        length -= 8;
    }
    while (length > 0) {
        crc = (crc >> 8) ^ table[0][(crc ^ *bytes++) & 0xFF];
        length--;
    }
    return ~crc;
}

#if LOGBOOK_CRC_X86
// Compiled for SSE4.2 on its own, so the rest of the file (and the package) needs no
// -msse4.2 and still runs on a CPU without it.
__attribute__((target("sse4.2")))
static uint32_t sse42(uint32_t crc, const uint8_t *bytes, size_t length) {
    uint32_t crc32 = ~crc;
    while (length > 0 && ((uintptr_t)bytes & 7) != 0) {
        crc32 = _mm_crc32_u8(crc32, *bytes++);
        length--;
    }
#if defined(__x86_64__)
    uint64_t crc64 = crc32;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        crc64 = _mm_crc32_u64(crc64, word);
        bytes += 8;
        length -= 8;
    }
    crc32 = (uint32_t)crc64;
#endif
    while (length > 0) {
        crc32 = _mm_crc32_u8(crc32, *bytes++);
        length--;
    }
    return ~crc32;
}
#endif

uint32_t logbook_crc32c_software(uint32_t crc, const void *data, size_t length) {
    pthread_once(&once, initialize);
    return software(crc, data, length);
}

bool logbook_crc32c_hardware_available(void) {
    pthread_once(&once, initialize);
    return hardware;
}

uint32_t logbook_crc32c_hardware(uint32_t crc, const void *data, size_t length) {
#if LOGBOOK_CRC_X86
    return sse42(crc, data, length);
#else
    return logbook_crc32c_software(crc, data, length);
#endif
}

uint32_t logbook_crc32c(uint32_t crc, const void *data, size_t length) {
    pthread_once(&once, initialize);
#if LOGBOOK_CRC_X86
    if (hardware) {
        return sse42(crc, data, length);
    }
#endif
    return software(crc, data, length);
}
