using static TorchSharp.torch;

namespace Reasoner.Models.Generation;

/// <summary>A step's tokens for one group: its prompt's next tokens (<see cref="Sequence"/> null) or one sequence's.</summary>
internal readonly record struct RowFeed(int Group, int? Sequence, int[] Tokens);

/// <summary>
/// Every request in flight decoded in a single cache row. A request is a group: its prompt's slots (copied in from
/// the prefix cache, fed as tokens, or both), then its sequences (sampled siblings, continuations being scored),
/// each with slots of its own. A token attends to its group's prompt and to its own sequence's earlier slots (a
/// block-diagonal, tree-shaped mask) at its own rotary position, which is exactly the attention of a separate row per
/// sequence: one forward advances every request, prefills and decoding steps alike, and a prompt's keys and values
/// are stored and read once per request, not once per sibling.
/// <list type="bullet">
/// <item>Joining and leaving: groups are added and released between steps; a released group's slots are masked
/// and, once the dead slots outnumber the live ones, compacted away.</item>
/// <item>Ragged feeds: a step may feed a prompt's remaining tokens, one token of each decoding sequence and whole
/// continuations being scored. A prompt's tokens fed in a step are seen by its sequences' tokens in the same step, so
/// scoring a fresh prompt's continuations takes one forward.</item>
/// </list>
/// Not thread-safe: the engine's loop owns it.
/// </summary>
internal sealed class SharedRow(int layerCount) : IDisposable
{
    private const int Prompt = -1; // the sequence of a prompt slot: its whole group sees it

    private sealed class Group
    {
        public int PromptLength { get; set; }
        public bool HasStarted { get; set; } // a sequence has been fed: the prompt is complete
    }

    private sealed class Sequence(int group)
    {
        public int Group { get; } = group;
        public int Start { get; set; } = -1; // the rotary position of its first token, fixed at its first feed
        public int Fed { get; set; }
    }

    private readonly KvCache cache = new(layerCount);
    private readonly List<int> slotGroup = [];    // per slot: the group it belongs to
    private readonly List<int> slotSequence = []; // per slot: its sequence, or Prompt
    private readonly Dictionary<int, Group> groups = [];
    private readonly Dictionary<int, Sequence> sequences = [];
    private int nextGroup, nextSequence, deadSlots;

    /// <summary>Slots held, live and not yet compacted.</summary>
    public long Length => cache.Length;

    /// <summary>A new group whose prompt starts with the first <paramref name="slots"/> slots of a batch-1 cache (only read); none when 0.</summary>
    public int AddGroup(KvCache? prefix, int slots)
    {
        int id = nextGroup++;
        if (slots > 0)
        {
            cache.AppendSlots(prefix ?? throw new ArgumentNullException(nameof(prefix)), slots);
            for (int i = 0; i < slots; i++)
            {
                slotGroup.Add(id);
                slotSequence.Add(Prompt);
            }
        }
        groups[id] = new Group { PromptLength = slots };
        return id;
    }

    /// <summary>A new sequence of a group; its first token follows the group's whole prompt.</summary>
    public int AddSequence(int group)
    {
        if (!groups.ContainsKey(group)) throw new ArgumentException($"group {group} is not in the row", nameof(group));
        sequences[nextSequence] = new Sequence(group);
        return nextSequence++;
    }

    /// <summary>Drops a group and its sequences; their slots are masked now and freed at a later compaction.</summary>
    public void Release(int group)
    {
        if (!groups.Remove(group)) return;
        foreach (var s in sequences.Where(s => s.Value.Group == group).Select(s => s.Key).ToArray()) sequences.Remove(s);
        deadSlots += slotGroup.Count(g => g == group);
        if (groups.Count == 0) Compact(); // nothing in flight: an idle engine holds no keys and values
    }

    /// <summary>A batch-1 cache of a group's prompt: what the prefix cache keeps.</summary>
    public KvCache CopyPrompt(int group) =>
        cache.CopySlots([.. Enumerable.Range(0, slotGroup.Count).Where(j => slotGroup[j] == group && slotSequence[j] == Prompt).Select(j => (long)j)]);

    /// <summary>
    /// Feeds the tokens in order (a group's prompt tokens before its sequences'); returns the hidden states of every
    /// fed token [total tokens, hidden], feed after feed.
    /// </summary>
    public Tensor Step(CausalLanguageModel model, IReadOnlyList<RowFeed> feeds, Device device)
    {
        var inputs = StepProfiler.Measure("feeds, attention mask, input tensors");
        if (deadSlots > 0 && deadSlots >= Length - deadSlots) Compact();
        int past = (int)Length, n = feeds.Sum(f => f.Tokens.Length), slots = past + n;
        var positions = new long[n];
        var ids = new long[n];
        int at = 0;
        foreach (var (groupId, sequenceId, tokens) in feeds)
        {
            var group = groups.TryGetValue(groupId, out var g) ? g : throw new ArgumentException($"group {groupId} is not in the row");
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
                slotGroup.Add(groupId);
                slotSequence.Add(sequence);
            }
        }
        // Token i (at slot past+i) sees the slots up to its own that are its group's prompt or its own sequence's.
        var visible = new bool[n * slots];
        for (int i = 0; i < n; i++)
        {
            int group = slotGroup[past + i], sequence = slotSequence[past + i];
            var row = visible.AsSpan(i * slots, slots);
            for (int j = 0; j <= past + i; j++)
                row[j] = slotGroup[j] == group && (slotSequence[j] == Prompt || slotSequence[j] == sequence);
        }
        var (idTensor, positionTensor, visibleTensor) = (tensor(ids, [1, n], device: device), tensor(positions, [1, n], device: device), tensor(visible, [1, n, slots], device: device));
        inputs.Dispose();
        return model.HiddenStates(idTensor, cache, positions: positionTensor, visibility: visibleTensor)[0];
    }

    private void Compact()
    {
        var live = Enumerable.Range(0, slotGroup.Count).Where(j => groups.ContainsKey(slotGroup[j])).ToArray();
        cache.KeepSlots([.. live.Select(j => (long)j)]);
        var (keptGroups, keptSequences) = (live.Select(j => slotGroup[j]).ToArray(), live.Select(j => slotSequence[j]).ToArray());
        slotGroup.Clear();
        slotGroup.AddRange(keptGroups);
        slotSequence.Clear();
        slotSequence.AddRange(keptSequences);
        deadSlots = 0;
    }

    public void Dispose() => cache.Dispose();
}
