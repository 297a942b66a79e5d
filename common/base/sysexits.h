// Exit codes shared by mda, mailctl and every main(): the sysexits.h contract
// that MTAs such as Postfix read from a local delivery agent.
#pragma once

namespace postern {

inline constexpr int kExOk = 0;
inline constexpr int kExUsage = 64;        // command line usage error
inline constexpr int kExDataErr = 65;      // input data was malformed
inline constexpr int kExNoInput = 66;      // input file missing or unreadable
inline constexpr int kExNoUser = 67;       // addressee unknown
inline constexpr int kExUnavailable = 69;  // service unavailable
inline constexpr int kExSoftware = 70;     // internal software error
inline constexpr int kExOsErr = 71;        // system error (e.g. cannot fork)
inline constexpr int kExCantCreate = 73;   // can't create output (e.g. over quota)
inline constexpr int kExIoErr = 74;        // input/output error
inline constexpr int kExTempFail = 75;     // temporary failure; the sender retries
inline constexpr int kExNoPerm = 77;       // permission denied
inline constexpr int kExConfig = 78;       // configuration error

}  // namespace postern
