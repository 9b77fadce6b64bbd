using Microsoft.Win32.SafeHandles;

namespace Reasoner.Core.Storage;

/// <summary>
/// Walks one segment file record by record and yields the payloads whose frame and CRC are intact.
/// Anything else is reported once at the offset where the record should have started, and the scan
/// resumes at the next magic after that offset (see <see cref="RecordFormat"/>).
/// </summary>
internal static class SegmentScanner
{
    private const int ScanChunkBytes = 64 * 1024;

    public static IEnumerable<(long Offset, byte[] Payload)> IntactPayloads(string path, Action<StoreDamage> onDamage)
    {
        // ReadWrite sharing: a live writer may still be appending; its unfinished tail reads as truncated.
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var length = RandomAccess.GetLength(handle);
        var header = new byte[RecordFormat.HeaderSize];
        long offset = 0;
        while (offset < length)
        {
            var damage = TryReadRecord(handle, offset, length, header, out var payload);
            if (damage is null)
            {
                yield return (offset, payload!);
                offset += RecordFormat.HeaderSize + payload!.Length;
                continue;
            }
            onDamage(new StoreDamage(path, offset, damage));
            offset = NextMagic(handle, offset + 1, length) ?? length;
        }
    }

    /// <summary>Reads the record at <paramref name="offset"/>; returns why it is unusable, or null with its payload.</summary>
    private static string? TryReadRecord(SafeFileHandle handle, long offset, long length, byte[] header, out byte[]? payload)
    {
        payload = null;
        var remaining = length - offset;
        if (remaining < RecordFormat.HeaderSize)
            return $"truncated: {remaining} bytes left, fewer than a record header";
        if (!ReadExactly(handle, header, offset))
            return "truncated: the file ended while it was being read";
        if (!RecordFormat.HasMagic(header))
            return "no record magic";
        var payloadLength = RecordFormat.PayloadLength(header);
        if (payloadLength > RecordFormat.MaxPayloadBytes)
            return $"implausible payload length {payloadLength}";
        if (payloadLength > remaining - RecordFormat.HeaderSize)
            return $"truncated: payload length {payloadLength} runs past the end of the file";
        var bytes = new byte[payloadLength];
        if (!ReadExactly(handle, bytes, offset + RecordFormat.HeaderSize))
            return "truncated: the file ended while it was being read";
        if (!RecordFormat.CrcMatches(header, bytes))
            return "payload CRC mismatch";
        payload = bytes;
        return null;
    }

    private static long? NextMagic(SafeFileHandle handle, long from, long length)
    {
        var magic = RecordFormat.Magic;
        var buffer = new byte[ScanChunkBytes];
        while (length - from >= magic.Length)
        {
            var count = (int)Math.Min(buffer.Length, length - from);
            if (!ReadExactly(handle, buffer.AsSpan(0, count), from)) return null;
            var index = buffer.AsSpan(0, count).IndexOf(magic);
            if (index >= 0) return from + index;
            // Step back so that a magic split across two chunks is still found.
            from += count - (magic.Length - 1);
        }
        return null;
    }

    /// <summary>False when the file ends first, which happens only if it shrank after its length was taken.</summary>
    private static bool ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        while (!buffer.IsEmpty)
        {
            var read = RandomAccess.Read(handle, buffer, offset);
            if (read == 0) return false;
            buffer = buffer[read..];
            offset += read;
        }
        return true;
    }
}
