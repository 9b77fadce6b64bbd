using System.Globalization;
using Reasoner.Core.Trees;

namespace Reasoner.Core.Storage;

public sealed record TreeStoreWriterOptions
{
    /// <summary>
    /// Names this writer's segments (letters, digits, '_' and '-'), e.g. a shard name. Null picks a random
    /// id. Uniqueness is not required for safety: segments are created with FileMode.CreateNew.
    /// </summary>
    public string? WriterId { get; init; }

    /// <summary>The writer starts a new segment once the current one reaches this size.</summary>
    public long SegmentSizeLimit { get; init; } = 64L << 20;

    public FlushPolicy Flush { get; init; } = FlushPolicy.EveryRecord;

    public TimeProvider Clock { get; init; } = TimeProvider.System;
}

/// <summary>
/// Appends trees to segment files that only this writer ever opens for writing, so concurrent writers
/// (threads, processes, machines sharing a folder) never interleave bytes. Not thread-safe: give each
/// producer its own writer.
/// </summary>
public sealed class TreeStoreWriter : IDisposable
{
    private const int FileBufferBytes = 64 * 1024;

    private readonly string _directory;
    private readonly TreeStoreWriterOptions _options;
    private readonly string _segmentNamePrefix;
    private readonly List<string> _segments = [];
    private FileStream? _segment;
    private long _segmentBytes;
    private int _nextSequence;
    private int _unflushedRecords;
    private long _lastFlushTimestamp;
    private bool _disposed;

    /// <summary>Creates <paramref name="treesDirectory"/> if needed and opens this writer's first segment.</summary>
    public TreeStoreWriter(string treesDirectory, TreeStoreWriterOptions? options = null)
    {
        _options = options ?? new TreeStoreWriterOptions();
        if (_options.SegmentSizeLimit <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), "SegmentSizeLimit must be positive.");
        WriterId = _options.WriterId ?? Guid.NewGuid().ToString("N")[..12];
        if (WriterId.Length == 0 || !WriterId.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            throw new ArgumentException($"Writer id '{WriterId}' must be letters, digits, '_' or '-'.", nameof(options));
        _directory = treesDirectory;
        Directory.CreateDirectory(treesDirectory);
        var started = _options.Clock.GetUtcNow().UtcDateTime;
        _segmentNamePrefix = $"seg-{started.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture)}-{WriterId}-";
        _lastFlushTimestamp = _options.Clock.GetTimestamp();
        _segment = OpenNextSegment();
    }

    public string WriterId { get; }

    /// <summary>Every segment this writer has created, oldest first.</summary>
    public IReadOnlyList<string> SegmentPaths => _segments;

    public void Append(PreferenceTree tree) => Append([tree]);

    /// <summary>
    /// Appends trees as one group: the flush policy is applied once, after the last of them, so trees that queued up
    /// together share one flush (and one fsync with <see cref="FlushPolicy.ToDisk"/>), as a database's group commit does.
    /// When this returns, the policy holds for every tree in the group.
    /// </summary>
    public void Append(IReadOnlyList<PreferenceTree> trees)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Span<byte> header = stackalloc byte[RecordFormat.HeaderSize];
        foreach (var tree in trees)
        {
            var payload = TreeSerializer.Serialize(tree);
            if (payload.Length > RecordFormat.MaxPayloadBytes)
                throw new ArgumentException($"Tree {tree.Problem.Id} serializes to {payload.Length} bytes, over the record limit.", nameof(trees));
            var segment = _segment ??= OpenNextSegment();
            RecordFormat.WriteHeader(header, payload);
            segment.Write(header);
            segment.Write(payload);
            _segmentBytes += header.Length + payload.Length;
            _unflushedRecords++;
            if (_segmentBytes >= _options.SegmentSizeLimit) CloseSegment();
        }
        if (_options.Flush.IsDue(_unflushedRecords, _options.Clock.GetElapsedTime(_lastFlushTimestamp)))
            Flush(_options.Flush.ToDisk);
    }

    /// <summary>Pushes buffered records to the operating system, and with <paramref name="flushToDisk"/> on to the disk (fsync).</summary>
    public void Flush(bool flushToDisk = false)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _segment?.Flush(flushToDisk);
        _unflushedRecords = 0;
        _lastFlushTimestamp = _options.Clock.GetTimestamp();
    }

    /// <summary>Flushes to disk and closes the segment.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        CloseSegment();
        _disposed = true;
    }

    /// <summary>
    /// A finished segment is fsynced before the writer moves on, so at most the newest segment can lose
    /// data in a power loss. The next segment is opened on the next append, so no empty file is left behind.
    /// </summary>
    private void CloseSegment()
    {
        if (_segment is null) return;
        Flush(flushToDisk: true);
        _segment.Dispose();
        _segment = null;
    }

    private FileStream OpenNextSegment()
    {
        // CreateNew fails instead of opening a file another writer owns; a taken name moves on to the next sequence number.
        while (true)
        {
            var path = Path.Combine(_directory, $"{_segmentNamePrefix}{_nextSequence++:D6}{TreeStoreReader.SegmentExtension}");
            try
            {
                var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, FileBufferBytes);
                _segments.Add(path);
                _segmentBytes = 0;
                return stream;
            }
            catch (IOException) when (File.Exists(path))
            {
            }
        }
    }
}
