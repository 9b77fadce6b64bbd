using static TorchSharp.torch;

namespace Reasoner.Models.Generation;

/// <summary>
/// Sibling continuations of one prompt decoded in a single cache row: the prompt's keys and values once, then one
/// slot per unfinished sibling per step. Each new token attends to the prompt and to its own sibling's earlier slots
/// (a tree-shaped mask) at its own rotary position, which gives exactly the attention of a separate row per sibling,
/// but a step reads the prompt's keys and values once for all siblings rather than once each, and forking copies
/// nothing. A finished sibling's slots stay, masked, until the request ends.
/// </summary>
internal sealed class SiblingBatch : IDisposable
{
    private readonly KvCache cache;
    private readonly int promptLength;
    private readonly List<int> slotOwners = []; // the sibling each slot after the prompt belongs to
    private readonly int[] fed;                  // tokens of each sibling already in the cache

    /// <param name="prompt">A batch-1 cache of the prompt that this batch owns and extends.</param>
    public SiblingBatch(KvCache prompt, int siblings)
    {
        cache = prompt;
        promptLength = (int)prompt.Length;
        fed = new int[siblings];
    }

    /// <summary>Feeds each listed sibling's next token; returns their hidden states [siblings.Count, hidden].</summary>
    public Tensor Step(CausalLanguageModel model, IReadOnlyList<int> siblings, IReadOnlyList<int> tokens, Device device)
    {
        int n = siblings.Count, slots = (int)cache.Length + n;
        var visible = new bool[n * slots];
        var positions = new long[n];
        for (int i = 0; i < n; i++)
        {
            var row = visible.AsSpan(i * slots, slots);
            row[..promptLength].Fill(true);
            for (int j = 0; j < slotOwners.Count; j++) row[promptLength + j] = slotOwners[j] == siblings[i];
            row[slots - n + i] = true; // itself
            positions[i] = promptLength + fed[siblings[i]]++;
        }
        slotOwners.AddRange(siblings);
        var hidden = model.HiddenStates(tensor(tokens.Select(t => (long)t).ToArray(), [1, n], device: device), cache,
            positions: tensor(positions, [1, n], device: device), visibility: tensor(visible, [1, n, slots], device: device));
        return hidden[0];
    }

    public void Dispose() => cache.Dispose();
}
