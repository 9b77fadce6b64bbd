using Reasoner.Models.Backends;

namespace Reasoner.Tests.Eval;

/// <summary>A scripted model: for each prompt, a fixed greedy answer and a fixed list of sampled texts.</summary>
internal sealed class FakeLanguageModel(Dictionary<string, (string Greedy, string[] Samples)> script) : ILanguageModel
{
    public string ModelId => "fake";

    public List<CompletionRequest> Requests { get; } = [];

    public Task<IReadOnlyList<Completion>> CompleteAsync(CompletionRequest request, CancellationToken cancel = default)
    {
        lock (Requests) Requests.Add(request);
        var (greedy, samples) = script[request.Prompt];
        var texts = request.Temperature == 0 ? [greedy] : samples.Take(request.N).ToArray();
        return Task.FromResult<IReadOnlyList<Completion>>(texts.Select(t => new Completion(t, [], [], FinishReason.EndOfSequence)).ToArray());
    }

    public Task<IReadOnlyList<ScoredContinuation>> ScoreAsync(string prompt, IReadOnlyList<string> continuations, CancellationToken cancel = default) =>
        throw new NotSupportedException();

    public void Dispose() { }
}
