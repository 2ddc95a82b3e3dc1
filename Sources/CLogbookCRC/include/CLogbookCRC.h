#ifndef CLOGBOOK_CRC_H
#define CLOGBOOK_CRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// CRC32C (Castagnoli, reflected polynomial 0x82F63B78) of `length` bytes at `data`,
/// continuing from `crc`: pass 0 to start, or the CRC of the bytes before, so
/// crc32c(crc32c(0, a), b) == crc32c(0, a ++ b). The pre- and post-inversion happen
/// inside, as in zlib's crc32().
///
/// Uses the SSE4.2 `crc32` instruction when the CPU has it (chosen once, at the first
/// call), the table-driven software path otherwise; both give the same result.
uint32_t logbook_crc32c(uint32_t crc, const void *data, size_t length);

/// The table-driven software path (slicing by 8), whatever the CPU has; for tests and
/// for CPUs without SSE4.2.
uint32_t logbook_crc32c_software(uint32_t crc, const void *data, size_t length);

/// True when the CPU has SSE4.2, so `logbook_crc32c_hardware` may be called.
bool logbook_crc32c_hardware_available(void);

/// The SSE4.2 path. Only call it when `logbook_crc32c_hardware_available()` is true;
/// on other architectures it is the software path.
uint32_t logbook_crc32c_hardware(uint32_t crc, const void *data, size_t length);

#ifdef __cplusplus
}
#endif

#endif
