using static TorchSharp.torch;

namespace Reasoner.Models;

/// <summary>
/// Keys and values of every layer for a batch of token rows, so decoding one more token costs one token's
/// forward instead of the whole prefix. Per layer, keys and values are [B, kvHeads, S, headDim] (after rotary),
/// stored in buffers with spare capacity so appending a token writes in place instead of copying the prefix.
///
/// Rows may hold different numbers of real tokens: a slot can be padding (<see cref="TokenMask"/> false), which
/// nothing attends to, and each row's next rotary position is its count of real tokens (<see cref="RowLengths"/>).
///
/// Forking for tree search: <see cref="Select"/> / <see cref="Expand"/> make a new cache whose rows are copies of
/// chosen rows of this one (so k children start from their parent's keys and values without recomputing them),
/// and <see cref="Concat"/> batches caches of different lengths by left-padding. All three leave this cache
/// usable, so a search node can keep its cache while its children extend theirs.
/// The cache owns its tensors: dispose it when the node is dropped.
/// </summary>
public sealed class KvCache : IDisposable
{
    /// <summary>Spare slots given to a freshly built cache, enough for a typical reasoning step without regrowing.</summary>
    private const long Headroom = 64;

    private readonly Tensor?[] keys, values; // [B, kvHeads, capacity, headDim]
    private Tensor? tokenMask;               // [B, Length] bool
    private Tensor? rowLengths;              // [B] int64

    public KvCache(int layerCount)
    {
        keys = new Tensor?[layerCount];
        values = new Tensor?[layerCount];
    }

    public int LayerCount => keys.Length;

    /// <summary>Slots held per row, padding included.</summary>
    public long Length { get; private set; }

    /// <summary>Rows; 0 until the first forward fills the cache.</summary>
    public long BatchSize { get; private set; }

    /// <summary>[B, Length] bool: true where a slot holds a real token, false for padding.</summary>
    public Tensor TokenMask => tokenMask ?? throw new InvalidOperationException("the cache is empty");

    /// <summary>[B] int64: real tokens per row, which is also the rotary position of the row's next token.</summary>
    public Tensor RowLengths => rowLengths ?? throw new InvalidOperationException("the cache is empty");

    /// <summary>
    /// Writes a layer's new keys/values [B, kvHeads, T, headDim] at slots [Length, Length+T) and returns views of
    /// slots [0, Length+T). <see cref="Length"/> moves on only at <see cref="Commit"/>, once every layer has appended.
    /// </summary>
    internal (Tensor Keys, Tensor Values) Append(int layer, Tensor k, Tensor v)
    {
        long t = k.shape[2], needed = Length + t;
        if (keys[layer] is null || needed > keys[layer]!.shape[2])
        {
            long capacity = Math.Max(needed + Headroom, 2 * (keys[layer]?.shape[2] ?? 0));
            keys[layer] = Regrow(keys[layer], k, capacity);
            values[layer] = Regrow(values[layer], v, capacity);
        }
        keys[layer]!.narrow(2, Length, t).copy_(k);
        values[layer]!.narrow(2, Length, t).copy_(v);
        return (keys[layer]!.narrow(2, 0, needed), values[layer]!.narrow(2, 0, needed));
    }

    private Tensor Regrow(Tensor? old, Tensor like, long capacity)
    {
        var buffer = zeros([like.shape[0], like.shape[1], capacity, like.shape[3]], like.dtype, like.device).DetachFromDisposeScope();
        if (old is not null)
        {
            buffer.narrow(2, 0, Length).copy_(old.narrow(2, 0, Length));
            old.Dispose();
        }
        return buffer;
    }

    /// <summary>Records which of the T slots just appended by every layer are real tokens ([B,T] bool).</summary>
    internal void Commit(Tensor newIsToken)
    {
        var mask = tokenMask is null ? newIsToken.clone() : cat([tokenMask, newIsToken], 1);
        var lengths = newIsToken.to(ScalarType.Int64).sum(1);
        if (rowLengths is not null) lengths = lengths + rowLengths;
        Replace(ref tokenMask, mask);
        Replace(ref rowLengths, lengths);
        BatchSize = newIsToken.shape[0];
        Length += newIsToken.shape[1];
    }

    private static void Replace(ref Tensor? field, Tensor value)
    {
        field?.Dispose();
        field = value.DetachFromDisposeScope();
    }

    /// <summary>A layer's key and value buffers [B, kvHeads, capacity, headDim]; slots past <see cref="Length"/> are unused.</summary>
    internal (Tensor Keys, Tensor Values) Layer(int layer) =>
        (keys[layer] ?? throw new InvalidOperationException("the cache is empty"), values[layer]!);

    /// <summary>
    /// A new batch-1 cache holding copies of the given keys and values per layer ([1, kvHeads, S, headDim] each), every
    /// slot a real token: how a prompt decoded in a <see cref="GroupedKvCache"/> row is handed to the prefix cache.
    /// Rotary positions were applied when the keys were written, so a slot means the same wherever it sits.
    /// </summary>
    internal static KvCache FromSlots(IReadOnlyList<(Tensor Keys, Tensor Values)> layers)
    {
        long count = layers[0].Keys.shape[2];
        using var scope = NewDisposeScope();
        var copy = new KvCache(layers.Count) { Length = count, BatchSize = 1 };
        for (int layer = 0; layer < layers.Count; layer++)
        {
            copy.keys[layer] = Gather(layers[layer].Keys, [0], count);
            copy.values[layer] = Gather(layers[layer].Values, [0], count);
        }
        var device = layers[0].Keys.device;
        copy.tokenMask = ones(1, count, ScalarType.Bool, device).DetachFromDisposeScope();
        copy.rowLengths = tensor(new[] { count }, device: device).DetachFromDisposeScope();
        return copy;
    }

    /// <summary>
    /// A new cache whose row i is a copy of this cache's row <paramref name="rows"/>[i] (rows may repeat), holding
    /// only the first <paramref name="slots"/> slots when given: a shorter prefix of the same rows, which is how a
    /// prompt cache serves a later prompt that shares only part of its tokens.
    /// </summary>
    public KvCache Select(long[] rows, long? slots = null)
    {
        if (BatchSize == 0) throw new InvalidOperationException("cannot fork an empty cache");
        foreach (var r in rows)
            if (r < 0 || r >= BatchSize) throw new ArgumentOutOfRangeException(nameof(rows), $"row {r} is outside the cache's {BatchSize} rows");
        long kept = slots ?? Length;
        if (kept < 1 || kept > Length) throw new ArgumentOutOfRangeException(nameof(slots), $"slots must be in [1, {Length}], not {kept}");
        using var scope = NewDisposeScope();
        var index = tensor(rows, device: rowLengths!.device);
        var forked = new KvCache(LayerCount) { Length = kept, BatchSize = rows.Length };
        for (int layer = 0; layer < LayerCount; layer++)
        {
            forked.keys[layer] = Gather(keys[layer]!, rows, kept);
            forked.values[layer] = Gather(values[layer]!, rows, kept);
        }
        var mask = tokenMask!.narrow(1, 0, kept).index_select(0, index);
        forked.tokenMask = mask.DetachFromDisposeScope();
        forked.rowLengths = (kept == Length ? rowLengths.index_select(0, index) : mask.to(ScalarType.Int64).sum(1)).DetachFromDisposeScope();
        return forked;
    }

    /// <summary>A new cache with each row repeated <paramref name="copies"/> times in place (row r becomes rows r*copies ... r*copies+copies-1): the k children of each prefix.</summary>
    public KvCache Expand(int copies)
    {
        if (copies < 1) throw new ArgumentOutOfRangeException(nameof(copies), "copies must be at least 1");
        return Select(Enumerable.Range(0, (int)BatchSize).SelectMany(r => Enumerable.Repeat((long)r, copies)).ToArray());
    }

    /// <summary>
    /// One cache holding the rows of <paramref name="caches"/> in order. Shorter caches are left-padded with
    /// padding slots up to the longest, so their rows keep attending only to their own tokens and keep their positions.
    /// </summary>
    public static KvCache Concat(IReadOnlyList<KvCache> caches)
    {
        if (caches.Count == 0) throw new ArgumentException("nothing to concatenate", nameof(caches));
        if (caches.Any(c => c.BatchSize == 0)) throw new InvalidOperationException("cannot concatenate an empty cache");
        int layerCount = caches[0].LayerCount;
        if (caches.Any(c => c.LayerCount != layerCount)) throw new ArgumentException("caches have different layer counts", nameof(caches));
        using var scope = NewDisposeScope();
        long length = caches.Max(c => c.Length), batch = caches.Sum(c => c.BatchSize);
        var joined = new KvCache(layerCount) { Length = length, BatchSize = batch };
        for (int layer = 0; layer < layerCount; layer++)
        {
            joined.keys[layer] = LeftPadded(caches.Select(c => c.keys[layer]!).ToList(), caches, length, batch);
            joined.values[layer] = LeftPadded(caches.Select(c => c.values[layer]!).ToList(), caches, length, batch);
        }
        joined.tokenMask = cat(caches.Select(c => nn.functional.pad(c.tokenMask!, [length - c.Length, 0], value: 0)).ToArray(), 0)
            .to(ScalarType.Bool).DetachFromDisposeScope();
        joined.rowLengths = cat(caches.Select(c => c.rowLengths!).ToArray(), 0).DetachFromDisposeScope();
        return joined;
    }

    private static Tensor LeftPadded(List<Tensor> buffers, IReadOnlyList<KvCache> caches, long length, long batch)
    {
        var first = buffers[0];
        var result = zeros([batch, first.shape[1], length + Headroom, first.shape[3]], first.dtype, first.device).DetachFromDisposeScope();
        long row = 0;
        for (int i = 0; i < buffers.Count; i++)
        {
            long rows = caches[i].BatchSize, len = caches[i].Length;
            result.narrow(0, row, rows).narrow(2, length - len, len).copy_(buffers[i].narrow(2, 0, len));
            row += rows;
        }
        return result;
    }

    // Copies slots [0, kept) of the chosen rows into a new buffer with headroom, in one pass: a row repeated k times
    // (forking k children) is one broadcast copy, not an index_select into a temporary and then a padded copy of that.
    // The headroom is left uninitialised: slots past Length are never read.
    private static Tensor Gather(Tensor buffer, long[] rows, long kept)
    {
        var result = empty([rows.Length, buffer.shape[1], kept + Headroom, buffer.shape[3]], buffer.dtype, buffer.device).DetachFromDisposeScope();
        for (int start = 0, end; start < rows.Length; start = end)
        {
            for (end = start + 1; end < rows.Length && rows[end] == rows[start];) end++;
            var source = buffer.narrow(0, rows[start], 1).narrow(2, 0, kept);
            result.narrow(0, start, end - start).narrow(2, 0, kept).copy_(source.expand(end - start, -1, -1, -1));
        }
        return result;
    }

    public void Dispose()
    {
        for (int layer = 0; layer < LayerCount; layer++)
        {
            keys[layer]?.Dispose();
            values[layer]?.Dispose();
            keys[layer] = values[layer] = null;
        }
        tokenMask?.Dispose();
        rowLengths?.Dispose();
        tokenMask = rowLengths = null;
        BatchSize = Length = 0;
    }
}
