using Reasoner.Core.Storage;
using Reasoner.Core.Trees;

namespace Reasoner.Tests.Storage;

/// <summary>A fresh folder under the system temp folder, deleted with everything in it.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateDirectory(
        System.IO.Path.Combine(System.IO.Path.GetTempPath(), "reasoner-tests-" + Guid.NewGuid().ToString("N"))).FullName;

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// <summary>A clock that moves only when told to, for the flush interval.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private TimeSpan _elapsed;

    public override DateTimeOffset GetUtcNow() => start + _elapsed;

    public override long GetTimestamp() => _elapsed.Ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public void Advance(TimeSpan by) => _elapsed += by;
}

internal static class StoredBytes
{
    /// <summary>Trees compared by their serialized form, which covers every stored field.</summary>
    public static string Key(PreferenceTree tree) => Convert.ToHexString(TreeSerializer.Serialize(tree));

    /// <summary>The [start, end) byte range of each record in a segment written from these trees, in order.</summary>
    public static List<(long Start, long End)> RecordRanges(IEnumerable<PreferenceTree> trees)
    {
        var ranges = new List<(long, long)>();
        long offset = 0;
        foreach (var tree in trees)
        {
            var end = offset + RecordFormat.HeaderSize + TreeSerializer.Serialize(tree).Length;
            ranges.Add((offset, end));
            offset = end;
        }
        return ranges;
    }
}
