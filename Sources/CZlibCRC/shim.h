// zlib's crc32 for the ZIP writer (BatchStore/Exports/StreamingZip.swift); Debian's zlib1g-dev.
#include <zlib.h>
