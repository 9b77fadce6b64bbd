using static TorchSharp.torch;

namespace Reasoner.Models.Generation;

/// <summary>
/// Every request in flight decoded in a single cache row. A request's prompt is copied in once as a group of slots;
/// each of its sequences (a sampled sibling, a continuation being scored) then adds slots of its own. A new token
/// attends to its group's prompt and to its own sequence's earlier slots (a block-diagonal, tree-shaped mask) at its
/// own rotary position, which is exactly the attention of a separate row per sequence, so one forward serves every
/// request's next tokens while the prompt's keys and values are stored and read once per request, not once per sibling.
/// <list type="bullet">
/// <item>Joining and leaving: a group is added or released between steps; a released group's slots are masked and,
/// once the dead slots outnumber the live ones, compacted away.</item>
/// <item>Ragged feeds: a step may feed one token to a decoding sequence and many to a sequence being scored; each
/// token also sees its own sequence's earlier tokens of the same step.</item>
/// </list>
/// Not thread-safe: the engine's loop owns it.
/// </summary>
internal sealed class SharedRow(int layerCount) : IDisposable
{
    private const int NoSequence = -1;

    private sealed record Group(int PromptLength);

    private readonly KvCache cache = new(layerCount);
    private readonly List<int> slotGroup = [];    // per slot: the group it belongs to
    private readonly List<int> slotSequence = []; // per slot: its sequence, or NoSequence for a prompt slot its whole group sees
    private readonly Dictionary<int, Group> groups = [];
    private readonly Dictionary<int, (int Group, int Fed)> sequences = [];
    private int nextGroup, nextSequence, deadSlots;

    /// <summary>Slots held, live and not yet compacted.</summary>
    public long Length => cache.Length;

    /// <summary>Copies a batch-1 prompt cache in as a new group; the source is only read.</summary>
    public int AddGroup(KvCache prompt)
    {
        int id = nextGroup++;
        cache.AppendSlots(prompt);
        for (int i = 0; i < prompt.Length; i++)
        {
            slotGroup.Add(id);
            slotSequence.Add(NoSequence);
        }
        groups[id] = new Group((int)prompt.Length);
        return id;
    }

    /// <summary>A new sequence after a group's prompt: its first token sits at the prompt's length.</summary>
    public int AddSequence(int group)
    {
        if (!groups.ContainsKey(group)) throw new ArgumentException($"group {group} is not in the row", nameof(group));
        sequences[nextSequence] = (group, 0);
        return nextSequence++;
    }

    /// <summary>Drops a group and its sequences; their slots are masked now and freed at a later compaction.</summary>
    public void Release(int group)
    {
        if (!groups.Remove(group)) return;
        foreach (var s in sequences.Where(s => s.Value.Group == group).Select(s => s.Key).ToArray()) sequences.Remove(s);
        for (int j = 0; j < slotGroup.Count; j++)
            if (slotGroup[j] == group) deadSlots++;
    }

    /// <summary>
    /// Feeds each listed sequence its tokens, in order; returns the hidden states of every fed token [total tokens,
    /// hidden], sequence after sequence in the order given.
    /// </summary>
    public Tensor Step(CausalLanguageModel model, IReadOnlyList<(int Sequence, int[] Tokens)> feeds, Device device)
    {
        if (deadSlots > 0 && deadSlots >= Length - deadSlots) Compact();
        int n = feeds.Sum(f => f.Tokens.Length), past = (int)Length, slots = past + n;
        var visible = new bool[n * slots];
        var positions = new long[n];
        var ids = new long[n];
        int at = 0;
        foreach (var (sequence, tokens) in feeds)
        {
            var (group, fed) = sequences.TryGetValue(sequence, out var s) ? s : throw new ArgumentException($"sequence {sequence} is not in the row");
            int promptLength = groups[group].PromptLength, first = at;
            for (int t = 0; t < tokens.Length; t++, at++)
            {
                var row = visible.AsSpan(at * slots, slots);
                for (int j = 0; j < past; j++)
                    row[j] = slotGroup[j] == group && (slotSequence[j] == NoSequence || slotSequence[j] == sequence);
                row.Slice(past + first, t + 1).Fill(true); // its own sequence's tokens of this step, itself included
                positions[at] = promptLength + fed + t;
                ids[at] = tokens[t];
                slotGroup.Add(group);
                slotSequence.Add(sequence);
            }
            sequences[sequence] = (group, fed + tokens.Length);
        }
        var hidden = model.HiddenStates(tensor(ids, [1, n], device: device), cache,
            positions: tensor(positions, [1, n], device: device), visibility: tensor(visible, [1, n, slots], device: device));
        return hidden[0];
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
