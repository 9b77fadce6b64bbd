using System.Buffers.Binary;
using System.IO.Hashing;

namespace Reasoner.Core.Storage;

/// <summary>
/// How one tree is framed in a segment file:
/// <code>
///   offset 0   4 bytes  magic C1 54 52 31 ("\xC1TR1")
///   offset 4   4 bytes  payload length, unsigned little-endian
///   offset 8   4 bytes  CRC-32 (IEEE) of the payload, little-endian
///   offset 12  payload  MessagePack of one PreferenceTree
/// </code>
/// The length lets a reader step from record to record without parsing MessagePack. The CRC lets it
/// tell an intact record from a torn write or flipped bits, so it never returns a wrong tree. The magic
/// lets it find the next record after damage: a corrupt length makes every later offset unknown, so
/// the reader scans forward for the magic and tries a record there, and the CRC rejects a magic that
/// merely occurs inside some payload. 0xC1 is a byte MessagePack never uses as a type code and is
/// invalid in UTF-8, so the magic rarely occurs inside payloads at all.
/// </summary>
internal static class RecordFormat
{
    public static ReadOnlySpan<byte> Magic => [0xC1, (byte)'T', (byte)'R', (byte)'1'];

    public const int HeaderSize = 12;

    /// <summary>
    /// Larger claimed lengths are treated as damage, so that a corrupt length field never makes the
    /// reader allocate gigabytes; the writer refuses payloads this large.
    /// </summary>
    public const int MaxPayloadBytes = 256 << 20;

    public static void WriteHeader(Span<byte> header, ReadOnlySpan<byte> payload)
    {
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Crc32.HashToUInt32(payload));
    }

    public static bool HasMagic(ReadOnlySpan<byte> header) => header[..Magic.Length].SequenceEqual(Magic);

    public static uint PayloadLength(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);

    public static bool CrcMatches(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload) =>
        BinaryPrimitives.ReadUInt32LittleEndian(header[8..]) == Crc32.HashToUInt32(payload);
}
