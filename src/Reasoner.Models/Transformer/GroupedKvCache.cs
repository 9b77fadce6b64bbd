using static TorchSharp.torch;

namespace Reasoner.Models;

/// <summary>
/// One request's share of a grouped forward (<see cref="CausalLanguageModel.HiddenStatesGrouped"/>): its tokens are
/// <see cref="Start"/>..<see cref="Start"/>+<see cref="Count"/> of the forward's row, its keys and values live in row
/// <see cref="Row"/> of a <see cref="GroupedKvCache"/> after the <see cref="Past"/> slots it already holds, and
/// <see cref="Visible"/> ([Count, Past + Count], row-major) says which of its slots each of its tokens sees.
/// </summary>
public sealed record GroupFeed(int Row, int Start, int Count, int Past, bool[] Visible);

/// <summary>
/// Keys and values of many independent requests, one cache row each, in buffers shared by all of them
/// ([rows, kvHeads, slots, headDim] per layer). A forward over every request in flight then writes its new keys and
/// values with one scatter per layer, and attends with one call for requests that pad together cheaply, instead of a
/// write and an attention call per request and layer (<see cref="GroupedAttention"/>).
///
/// Rows are handed out and taken back between forwards; a released row's slots are simply forgotten (its length is
/// what counts). The buffers grow by doubling; every row is as wide as the longest, so they hold rows in flight ×
/// the longest row. They keep their size while requests come, and large ones are freed when the last row is released.
/// Not thread-safe.
/// </summary>
public sealed class GroupedKvCache : IDisposable
{
    /// <summary>Spare slots added when the buffers grow, so a request decoding a step does not regrow them at once.</summary>
    private const long SlotHeadroom = 64;

    /// <summary>
    /// Buffers up to this size stay allocated when no request is in flight: one search worker's requests come one after
    /// another, and zeroing fresh buffers for each would cost more than holding them (the built-in model's are a few MiB).
    /// </summary>
    public const long KeptWhenIdleBytes = 64L << 20;

    private readonly long keptWhenIdleBytes;

    private readonly int layerCount, kvHeads, headDim;
    private readonly ScalarType dtype;
    private readonly Device device;
    private readonly Tensor?[] keys, values;
    private readonly List<long> lengths = []; // per row: slots held, or -1 when the row is free
    private long rowCapacity, slotCapacity;

    public GroupedKvCache(int layerCount, int kvHeads, int headDim, ScalarType dtype, Device device, long keptWhenIdleBytes = KeptWhenIdleBytes)
    {
        this.keptWhenIdleBytes = keptWhenIdleBytes;
        this.layerCount = layerCount;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.dtype = dtype;
        this.device = device;
        keys = new Tensor?[layerCount];
        values = new Tensor?[layerCount];
    }

    /// <summary>A cache shaped for <paramref name="model"/>'s keys and values, on its device and in its dtype.</summary>
    public static GroupedKvCache For(CausalLanguageModel model, long keptWhenIdleBytes = KeptWhenIdleBytes)
    {
        var weight = model.parameters().First();
        return new GroupedKvCache(model.Config.NumHiddenLayers, model.Config.NumKeyValueHeads, model.Config.HeadDim, weight.dtype, weight.device, keptWhenIdleBytes);
    }

    public int LayerCount => layerCount;

    /// <summary>Slots held by every row in use (kept as a sum, so that another thread may read it).</summary>
    public long Length => Interlocked.Read(ref length);

    private long length;

    public long RowLength(int row) =>
        row >= 0 && row < lengths.Count && lengths[row] >= 0 ? lengths[row] : throw new ArgumentException($"row {row} is not in use", nameof(row));

    /// <summary>An empty row (the lowest free one, so rows in use stay packed and a padded call spans few unused ones).</summary>
    public int AddRow()
    {
        int row = lengths.IndexOf(-1);
        if (row < 0)
        {
            row = lengths.Count;
            lengths.Add(0);
        }
        else lengths[row] = 0;
        return row;
    }

    public void Release(int row)
    {
        if (row < 0 || row >= lengths.Count || lengths[row] < 0) return;
        Interlocked.Add(ref length, -lengths[row]);
        lengths[row] = -1;
        while (lengths.Count > 0 && lengths[^1] < 0) lengths.RemoveAt(lengths.Count - 1);
        if (lengths.Count == 0 && BufferBytes > keptWhenIdleBytes) FreeBuffers();
    }

    /// <summary>Bytes the key and value buffers hold, every layer's.</summary>
    public long BufferBytes => 2L * layerCount * rowCapacity * kvHeads * slotCapacity * headDim * (keys[0]?.ElementSize ?? 0);

    /// <summary>Appends the first <paramref name="slots"/> slots of <paramref name="source"/>, a batch-1 cache (only read), to a row.</summary>
    public void AppendSlots(int row, KvCache source, long slots)
    {
        long past = RowLength(row);
        if (source.BatchSize != 1) throw new ArgumentException($"the source must hold one row, not {source.BatchSize}", nameof(source));
        if (source.LayerCount != layerCount) throw new ArgumentException("the caches have different layer counts", nameof(source));
        if (slots < 1 || slots > source.Length) throw new ArgumentOutOfRangeException(nameof(slots), $"slots must be in [1, {source.Length}], not {slots}");
        Reserve(row + 1, past + slots);
        using var scope = NewDisposeScope();
        for (int layer = 0; layer < layerCount; layer++)
        {
            var (k, v) = source.Layer(layer);
            keys[layer]!.narrow(0, row, 1).narrow(2, past, slots).copy_(k.narrow(2, 0, slots));
            values[layer]!.narrow(0, row, 1).narrow(2, past, slots).copy_(v.narrow(2, 0, slots));
        }
        lengths[row] = past + slots;
        Interlocked.Add(ref length, slots);
    }

    /// <summary>A batch-1 cache holding a row's first <paramref name="slots"/> slots: how a prompt decoded here is handed to the prefix cache.</summary>
    public KvCache CopySlots(int row, long slots)
    {
        long held = RowLength(row);
        if (slots < 1 || slots > held) throw new ArgumentOutOfRangeException(nameof(slots), $"slots must be in [1, {held}], not {slots}");
        return KvCache.FromSlots(Enumerable.Range(0, layerCount)
            .Select(layer => (keys[layer]!.narrow(0, row, 1).narrow(2, 0, slots), values[layer]!.narrow(0, row, 1).narrow(2, 0, slots)))
            .ToArray());
    }

    /// <summary>
    /// The tensors one forward's attention needs for every layer: where each token's keys and values go, and how the
    /// requests are padded into one attention call. Slots are reserved for every feed; the rows' lengths move on only
    /// when <see cref="GroupedAttention.Commit"/> is called after the forward.
    /// </summary>
    public GroupedAttention Plan(IReadOnlyList<GroupFeed> feeds, long tokens)
    {
        long covered = 0;
        foreach (var f in feeds)
        {
            if (f.Start != covered || f.Count < 1) throw new ArgumentException("the feeds must cover the tokens in order, each with at least one token", nameof(feeds));
            if (f.Past != RowLength(f.Row)) throw new ArgumentException($"row {f.Row} holds {lengths[f.Row]} slots, not {f.Past}", nameof(feeds));
            if (f.Visible.Length != f.Count * (f.Past + f.Count)) throw new ArgumentException($"a feed's mask must hold {f.Count} × {f.Past + f.Count} entries, not {f.Visible.Length}", nameof(feeds));
            covered += f.Count;
        }
        if (covered != tokens) throw new ArgumentException($"the feeds cover {covered} of {tokens} tokens", nameof(feeds));
        if (feeds.Select(f => f.Row).Distinct().Count() != feeds.Count) throw new ArgumentException("two feeds share a row", nameof(feeds));
        Reserve(feeds.Max(f => f.Row) + 1, feeds.Max(f => f.Past + f.Count));
        return new GroupedAttention(this, feeds, tokens);
    }

    internal (Tensor Keys, Tensor Values) Buffers(int layer) => (keys[layer]!, values[layer]!);

    internal int KvHeads => kvHeads;

    internal int HeadDim => headDim;

    internal Device Device => device;

    internal void Advance(IReadOnlyList<GroupFeed> feeds)
    {
        foreach (var f in feeds)
        {
            lengths[f.Row] = f.Past + f.Count;
            Interlocked.Add(ref length, f.Count);
        }
    }

    // Buffers start as zeros and only ever receive keys and values: a padded query may read a slot no request wrote,
    // and a NaN there would poison its row's softmax even under the mask.
    private void Reserve(long rows, long slots)
    {
        if (rows <= rowCapacity && slots <= slotCapacity) return;
        long newRows = rows > rowCapacity ? Math.Max(rows, Math.Max(4, 2 * rowCapacity)) : rowCapacity;
        long newSlots = slots > slotCapacity ? Math.Max(slots + SlotHeadroom, 2 * slotCapacity) : slotCapacity;
        using var scope = NewDisposeScope();
        for (int layer = 0; layer < layerCount; layer++)
        {
            keys[layer] = Regrown(keys[layer], newRows, newSlots);
            values[layer] = Regrown(values[layer], newRows, newSlots);
        }
        rowCapacity = newRows;
        slotCapacity = newSlots;
    }

    private Tensor Regrown(Tensor? old, long rows, long slots)
    {
        var buffer = zeros([rows, kvHeads, slots, headDim], dtype, device).DetachFromDisposeScope();
        if (old is not null)
        {
            buffer.narrow(0, 0, rowCapacity).narrow(2, 0, slotCapacity).copy_(old);
            old.Dispose();
        }
        return buffer;
    }

    private void FreeBuffers()
    {
        for (int layer = 0; layer < layerCount; layer++)
        {
            keys[layer]?.Dispose();
            values[layer]?.Dispose();
            keys[layer] = values[layer] = null;
        }
        rowCapacity = slotCapacity = 0;
    }

    public void Dispose()
    {
        FreeBuffers();
        lengths.Clear();
        Interlocked.Exchange(ref length, 0);
    }
}

/// <summary>
/// One forward's attention over a <see cref="GroupedKvCache"/> (see <see cref="GroupedKvCache.Plan"/>): every layer
/// scatters the new keys and values into their rows with one write, then attends in as few calls as pay: requests in
/// neighbouring rows are padded into one block of [rows, queries, slots] when the padding costs less than the calls it
/// saves (<see cref="Calls"/>), and a request attends alone over its own row otherwise. Owns its index and mask
/// tensors; dispose after the forward.
/// </summary>
public sealed class GroupedAttention : IDisposable
{
    /// <summary>
    /// What one more attention call costs, in query–slot pairs of arithmetic: libtorch's scaled dot-product attention
    /// on this project's 2-core machine took about 0.02 ms a call plus 18 ns a pair (4 heads of 64, fp32), so a call
    /// is worth about a thousand pairs.
    /// </summary>
    internal const long CallCostInPairs = 1000;

    private readonly GroupedKvCache cache;
    private readonly IReadOnlyList<GroupFeed> feeds;
    private readonly long tokens;
    private readonly Tensor? writeRows, writeSlots; // [T]: each new token's row and slot, when there are several requests
    private readonly List<Call> calls = [];

    /// <summary>One attention call: a request alone, or rows [FirstRow, FirstRow + Rows) padded to Queries × Slots.</summary>
    private sealed record Call(GroupFeed? Alone, int FirstRow, int Rows, int Queries, long Slots, Tensor Allowed, Tensor? QueryIndex, Tensor? OutputIndex, Tensor? OutputTokens) : IDisposable
    {
        public void Dispose()
        {
            Allowed.Dispose();
            QueryIndex?.Dispose();
            OutputIndex?.Dispose();
            OutputTokens?.Dispose();
        }
    }

    internal GroupedAttention(GroupedKvCache cache, IReadOnlyList<GroupFeed> feeds, long tokens)
    {
        this.cache = cache;
        this.feeds = feeds;
        this.tokens = tokens;
        var device = cache.Device;
        if (feeds.Count > 1)
        {
            var rows = new long[tokens];
            var slots = new long[tokens];
            foreach (var f in feeds)
                for (int i = 0; i < f.Count; i++)
                {
                    rows[f.Start + i] = f.Row;
                    slots[f.Start + i] = f.Past + i;
                }
            writeRows = tensor(rows, device: device);
            writeSlots = tensor(slots, device: device);
        }
        foreach (var block in Calls(feeds))
            calls.Add(block.Count == 1
                ? new Call(block[0], block[0].Row, 1, block[0].Count, block[0].Past + block[0].Count,
                    tensor(block[0].Visible, [1, 1, block[0].Count, block[0].Past + block[0].Count], device: device), null, null, null)
                : Pad(block, device));
    }

    /// <summary>
    /// The feeds split into attention calls of neighbouring rows, at the least cost: a call costs
    /// <see cref="CallCostInPairs"/> plus its query–slot pairs, padding and unused rows in between included. Exact over
    /// the splits of the row order (dynamic programming; a forward has a few dozen requests at most).
    /// </summary>
    internal static List<List<GroupFeed>> Calls(IReadOnlyList<GroupFeed> feeds)
    {
        var byRow = feeds.OrderBy(f => f.Row).ToArray();
        int n = byRow.Length;
        var best = new long[n + 1];
        var from = new int[n + 1];
        for (int end = 1; end <= n; end++)
        {
            best[end] = long.MaxValue;
            int queries = 0;
            long slots = 0;
            for (int start = end - 1; start >= 0; start--)
            {
                queries = Math.Max(queries, byRow[start].Count);
                slots = Math.Max(slots, byRow[start].Past + byRow[start].Count);
                long rows = byRow[end - 1].Row - byRow[start].Row + 1;
                long cost = best[start] + CallCostInPairs + rows * queries * slots;
                if (cost < best[end]) (best[end], from[end]) = (cost, start);
            }
        }
        var result = new List<List<GroupFeed>>();
        for (int end = n; end > 0; end = from[end]) result.Add(byRow[from[end]..end].ToList());
        result.Reverse();
        return result;
    }

    private static Call Pad(List<GroupFeed> block, Device device)
    {
        int first = block[0].Row, rows = block[^1].Row - first + 1;
        int queries = block.Max(f => f.Count);
        long slots = block.Max(f => f.Past + f.Count);
        var queryIndex = new long[rows * queries];
        var allowed = new bool[rows * queries * slots];
        // A padding query (an unused row, or past its request's own tokens) sees slot 0 only, so its softmax is finite;
        // its output is never read.
        for (long q = 0; q < rows * queries; q++) allowed[q * slots] = true;
        var outputIndex = new List<long>();
        var outputTokens = new List<long>();
        foreach (var f in block)
        {
            int width = f.Past + f.Count;
            for (int i = 0; i < f.Count; i++)
            {
                long at = (long)(f.Row - first) * queries + i;
                queryIndex[at] = f.Start + i;
                Array.Copy(f.Visible, (long)i * width, allowed, at * slots, width);
                outputIndex.Add(at);
                outputTokens.Add(f.Start + i);
            }
        }
        return new Call(null, first, rows, queries, slots, tensor(allowed, [rows, 1, queries, slots], device: device),
            tensor(queryIndex, device: device), tensor(outputIndex.ToArray(), device: device), tensor(outputTokens.ToArray(), device: device));
    }

    /// <summary>
    /// Writes a layer's new keys and values ([1, kvHeads, T, headDim], after rotary) into their rows and returns the
    /// attention output [1, heads, T, headDim] for queries <paramref name="q"/> [1, heads, T, headDim].
    /// </summary>
    internal Tensor Attend(int layer, Tensor q, Tensor k, Tensor v, Func<Tensor, Tensor> repeatKeyValueHeads)
    {
        var (keys, values) = cache.Buffers(layer);
        using (StepProfiler.Measure("  of which: KV cache append"))
        {
            if (feeds.Count == 1)
            {
                // One request: a plain copy into its row is cheaper than the scatter.
                var f = feeds[0];
                keys.narrow(0, f.Row, 1).narrow(2, f.Past, f.Count).copy_(k);
                values.narrow(0, f.Row, 1).narrow(2, f.Past, f.Count).copy_(v);
            }
            else
            {
                // Indices on dims 0 and 2 with a slice between: the indexed shape is [T, kvHeads, headDim].
                keys.index_put_(k[0].transpose(0, 1), TensorIndex.Tensor(writeRows!), TensorIndex.Colon, TensorIndex.Tensor(writeSlots!));
                values.index_put_(v[0].transpose(0, 1), TensorIndex.Tensor(writeRows!), TensorIndex.Colon, TensorIndex.Tensor(writeSlots!));
            }
        }
        using var sdpa = StepProfiler.Measure("  of which: scaled dot-product attention");
        if (calls.Count == 1 && calls[0].Alone is not null) return Attend(calls[0], q, keys, values, repeatKeyValueHeads);
        long heads = q.shape[1], headDim = q.shape[3];
        var output = empty([tokens, heads, headDim], q.dtype, q.device); // every token is written by exactly one call
        foreach (var call in calls)
        {
            var attended = Attend(call, q, keys, values, repeatKeyValueHeads); // [rows, heads, queries, headDim]
            if (call.Alone is { } f) output.narrow(0, f.Start, f.Count).copy_(attended[0].transpose(0, 1));
            else output.index_copy_(0, call.OutputTokens!, attended.transpose(1, 2).reshape(call.Rows * call.Queries, heads, headDim).index_select(0, call.OutputIndex!));
        }
        return output.transpose(0, 1).unsqueeze(0);
    }

    private static Tensor Attend(Call call, Tensor q, Tensor keys, Tensor values, Func<Tensor, Tensor> repeatKeyValueHeads)
    {
        var query = call.Alone is { } f
            ? q.narrow(2, f.Start, f.Count)
            : q[0].transpose(0, 1).index_select(0, call.QueryIndex!).view(call.Rows, call.Queries, q.shape[1], q.shape[3]).transpose(1, 2);
        var k = repeatKeyValueHeads(keys.narrow(0, call.FirstRow, call.Rows).narrow(2, 0, call.Slots));
        var v = repeatKeyValueHeads(values.narrow(0, call.FirstRow, call.Rows).narrow(2, 0, call.Slots));
        return nn.functional.scaled_dot_product_attention(query, k, v, call.Allowed);
    }

    /// <summary>Tokens the forward feeds, every request's together.</summary>
    public long Tokens => tokens;

    /// <summary>After the forward: each row now holds its fed tokens.</summary>
    public void Commit() => cache.Advance(feeds);

    public void Dispose()
    {
        writeRows?.Dispose();
        writeSlots?.Dispose();
        foreach (var call in calls) call.Dispose();
    }
}
