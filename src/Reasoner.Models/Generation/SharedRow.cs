using static TorchSharp.torch;

namespace Reasoner.Models.Generation;

/// <summary>A step's tokens for one group: its prompt's next tokens (<see cref="Sequence"/> null) or one sequence's.</summary>
internal readonly record struct RowFeed(int Group, int? Sequence, int[] Tokens);

/// <summary>
/// Every request in flight decoded in a single row. A request is a group: its prompt's slots (copied in from the
/// prefix cache, fed as tokens, or both), then its sequences (sampled siblings, continuations being scored), each with
/// slots of its own, all in the group's own row of one <see cref="GroupedKvCache"/>. A token attends to its group's
/// prompt and to its own sequence's earlier slots (a tree-shaped mask) at its own rotary position, which is exactly the attention of a
/// separate row per sequence: one forward advances every request, prefills and decoding steps alike, and a prompt's
/// keys and values are stored and read once per request, not once per sibling.
/// <list type="bullet">
/// <item>Attention per request: projections and MLP run once over every group's tokens; attention scores a token against
/// its own group's slots only, neighbouring groups padded into one call where that costs less than separate calls
/// (<see cref="GroupedAttention"/>), so its cost grows with each request's own length, not with everything in
/// flight.</item>
/// <item>Joining and leaving: groups are added and released between steps; a released group's row is free at once for
/// the next one.</item>
/// <item>Ragged feeds: a step may feed a prompt's remaining tokens, one token of each decoding sequence and whole
/// continuations being scored. A prompt's tokens fed in a step are seen by its sequences' tokens in the same step, so
/// scoring a fresh prompt's continuations takes one forward.</item>
/// </list>
/// Not thread-safe: the engine's loop owns it.
/// </summary>
internal sealed class SharedRow(GroupedKvCache cache) : IDisposable
{
    private const int Prompt = -1; // the sequence of a prompt slot: its whole group sees it

    private sealed class Group(int row)
    {
        public int Row { get; } = row;
        public List<int> SlotSequence { get; } = []; // per slot of the group's cache row: its sequence, or Prompt
        public int PromptLength { get; set; }
        public bool HasStarted { get; set; } // a sequence has been fed: the prompt is complete
    }

    private sealed class Sequence(int group)
    {
        public int Group { get; } = group;
        public int Start { get; set; } = -1; // the rotary position of its first token, fixed at its first feed
        public int Fed { get; set; }
    }

    private readonly Dictionary<int, Group> groups = [];
    private readonly Dictionary<int, Sequence> sequences = [];
    private int nextGroup, nextSequence;

    /// <summary>Slots held by every group in flight.</summary>
    public long Length => cache.Length;

    /// <summary>A new group whose prompt starts with the first <paramref name="slots"/> slots of a batch-1 cache (only read); none when 0.</summary>
    public int AddGroup(KvCache? prefix, int slots)
    {
        int id = nextGroup++;
        if (slots > 0) ArgumentNullException.ThrowIfNull(prefix);
        var group = new Group(cache.AddRow()) { PromptLength = slots };
        if (slots > 0)
        {
            try { cache.AppendSlots(group.Row, prefix!, slots); }
            catch
            {
                cache.Release(group.Row);
                throw;
            }
            group.SlotSequence.AddRange(Enumerable.Repeat(Prompt, slots));
        }
        groups[id] = group;
        return id;
    }

    /// <summary>A new sequence of a group; its first token follows the group's whole prompt.</summary>
    public int AddSequence(int group)
    {
        if (!groups.ContainsKey(group)) throw new ArgumentException($"group {group} is not in the row", nameof(group));
        sequences[nextSequence] = new Sequence(group);
        return nextSequence++;
    }

    /// <summary>Drops a group and its sequences, and frees its row.</summary>
    public void Release(int group)
    {
        if (!groups.Remove(group, out var released)) return;
        foreach (var s in sequences.Where(s => s.Value.Group == group).Select(s => s.Key).ToArray()) sequences.Remove(s);
        cache.Release(released.Row);
    }

    /// <summary>A batch-1 cache of a group's prompt (its first slots): what the prefix cache keeps.</summary>
    public KvCache CopyPrompt(int group)
    {
        var g = groups.TryGetValue(group, out var found) ? found : throw new ArgumentException($"group {group} is not in the row", nameof(group));
        return cache.CopySlots(g.Row, g.PromptLength); // a group's prompt slots come before its sequences'
    }

    /// <summary>
    /// Feeds the tokens in order (a group's feeds one after another, its prompt tokens before its sequences'); returns
    /// the hidden states of every fed token [total tokens, hidden], feed after feed.
    /// </summary>
    public Tensor Step(CausalLanguageModel model, IReadOnlyList<RowFeed> feeds, Device device)
    {
        var inputs = StepProfiler.Measure("feeds, attention mask, input tensors");
        int n = feeds.Sum(f => f.Tokens.Length);
        var positions = new long[n];
        var ids = new long[n];
        var spans = new List<(Group Group, int Start, int Count, int Past)>();
        int at = 0;
        foreach (var (groupId, sequenceId, tokens) in feeds)
        {
            var group = groups.TryGetValue(groupId, out var g) ? g : throw new ArgumentException($"group {groupId} is not in the row");
            if (spans.Count > 0 && spans[^1].Group == group) spans[^1] = spans[^1] with { Count = spans[^1].Count + tokens.Length };
            else if (spans.Any(x => x.Group == group)) throw new ArgumentException($"group {groupId}'s feeds must follow one another");
            else spans.Add((group, at, tokens.Length, group.SlotSequence.Count));
            int sequence = Prompt;
            if (sequenceId is { } id)
            {
                var s = sequences.TryGetValue(id, out var found) && found.Group == groupId ? found : throw new ArgumentException($"sequence {id} is not in group {groupId}");
                if (s.Start < 0) s.Start = group.PromptLength;
                group.HasStarted = true;
                for (int t = 0; t < tokens.Length; t++) positions[at + t] = s.Start + s.Fed + t;
                s.Fed += tokens.Length;
                sequence = id;
            }
            else
            {
                if (group.HasStarted) throw new InvalidOperationException($"group {groupId}'s sequences have started: its prompt cannot grow");
                for (int t = 0; t < tokens.Length; t++) positions[at + t] = group.PromptLength + t;
                group.PromptLength += tokens.Length;
            }
            for (int t = 0; t < tokens.Length; t++, at++)
            {
                ids[at] = tokens[t];
                group.SlotSequence.Add(sequence);
            }
        }
        // Within its group, token i (at slot past+i) sees the slots up to its own that are the prompt's or its own sequence's.
        var attention = new List<GroupFeed>(spans.Count);
        foreach (var (group, start, count, past) in spans)
        {
            int slots = past + count;
            var visible = new bool[count * slots];
            for (int i = 0; i < count; i++)
            {
                int sequence = group.SlotSequence[past + i];
                var row = visible.AsSpan(i * slots, slots);
                for (int j = 0; j <= past + i; j++) row[j] = group.SlotSequence[j] == Prompt || group.SlotSequence[j] == sequence;
            }
            attention.Add(new GroupFeed(group.Row, start, count, past, visible));
        }
        using var plan = cache.Plan(attention, n);
        var (idTensor, positionTensor) = (tensor(ids, [1, n], device: device), tensor(positions, [1, n], device: device));
        inputs.Dispose();
        return model.HiddenStatesGrouped(idTensor, positionTensor, plan)[0];
    }

    public void Dispose()
    {
        cache.Dispose();
        groups.Clear();
        sequences.Clear();
    }
}
