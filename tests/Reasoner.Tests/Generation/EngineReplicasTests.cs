using Reasoner.Models.Backends;
using Reasoner.Models.Generation;

namespace Reasoner.Tests.Generation;

/// <summary>
/// Several engine loops over one set of weights: a request gives on any replica what it gives on one engine alone,
/// requests go to the least busy replica, and a prompt prefilled on one replica serves its extensions on any.
/// </summary>
public class EngineReplicasTests(TinyCheckpoint checkpoint) : IClassFixture<TinyCheckpoint>
{
    private static readonly CompletionRequest[] Mixed = CrossRequestBatchingTests.Mixed;

    [Fact]
    public async Task ConcurrentRequestsGiveOnTheReplicasWhatEachGivesOnOneEngineAlone()
    {
        var expected = await CrossRequestBatchingTests.Alone(checkpoint, Mixed);

        using var replicas = EngineReplicas.Load(checkpoint.Path, replicas: 2);
        var actual = await Task.WhenAll(Mixed.Select(r => replicas.CompleteAsync(r)));
        for (int r = 0; r < Mixed.Length; r++) CompletionAssert.Same(expected[r], actual[r]);
        // Six requests at once: the load spreads them over both replicas.
        Assert.Equal(Mixed.Length, replicas.RequestsRouted.Sum());
        Assert.All(replicas.RequestsRouted, n => Assert.True(n > 0));
    }

    [Fact]
    public async Task RequestsGoToTheReplicaWithFewestInFlight()
    {
        using var replicas = EngineReplicas.Load(checkpoint.Path, replicas: 2);
        Task<IReadOnlyList<Completion>>[] tasks;
        // Both loops held, so every request is still in flight while the next one is routed: 0, 1, then 0 again.
        using (replicas.Engines[0].HoldLoop())
        using (replicas.Engines[1].HoldLoop())
            tasks = [.. Enumerable.Range(0, 3).Select(i => replicas.CompleteAsync(
                new CompletionRequest(TinyCheckpoint.Prompt, 1, MaxTokens: 4) { Seed = i }))];
        await Task.WhenAll(tasks);
        Assert.Equal([2L, 1L], replicas.RequestsRouted);
    }

    [Fact]
    public async Task APromptPrefilledOnOneReplicaServesItsExtensionOnTheOther()
    {
        const string child = TinyCheckpoint.Prompt + " 12 + 35 = 47.\nStep 2:";
        var request = new CompletionRequest(child, 2, MaxTokens: 8) { Seed = 3 };
        var expected = await CrossRequestBatchingTests.Alone(checkpoint, [request]);

        using var replicas = EngineReplicas.Load(checkpoint.Path, replicas: 2);
        await replicas.CompleteAsync(new CompletionRequest(TinyCheckpoint.Prompt, 2, MaxTokens: 8) { Seed = 1 }); // replica 0
        Task<IReadOnlyList<Completion>> busy, extension;
        using (replicas.Engines[0].HoldLoop())
        {
            // A prompt that shares no token with the others, so the prefix cache counts only the child's reuse.
            busy = replicas.CompleteAsync(new CompletionRequest("Is (true and not false) or false?", 1, MaxTokens: 4) { Seed = 2 }); // replica 0
            extension = replicas.CompleteAsync(request); // replica 1: replica 0 holds a request
        }
        CompletionAssert.Same(expected[0], await extension);
        await busy;
        Assert.Equal([2L, 1L], replicas.RequestsRouted);
        // The child's prompt on replica 1 started from the parent's keys and values, which replica 0 prefilled.
        var tokenizer = replicas.Engines[0].Tokenizer;
        int shared = tokenizer.Encode(TinyCheckpoint.Prompt).AsSpan().CommonPrefixLength(tokenizer.Encode(child));
        Assert.True(shared > 10);
        Assert.Equal(shared, replicas.PrefixCacheStats.ReusedTokens);
    }

    [Fact]
    public async Task ReplicasEvictingEachOthersPromptsStillGiveWhatEachRequestGivesAlone()
    {
        // Extensions of one prompt, three waves of twelve at once, on two loops whose shared cache holds little more
        // than one prompt: entries are evicted while the other loop may be copying them.
        var requests = Enumerable.Range(0, 12).Select(i => new CompletionRequest(
            TinyCheckpoint.Prompt + string.Concat(Enumerable.Repeat(" 1", i % 4)), 2, MaxTokens: 6) { Seed = i }).ToArray();
        var expected = await CrossRequestBatchingTests.Alone(checkpoint, requests);
        using var probe = checkpoint.Engine();
        var options = new TorchEngineOptions { PrefixCacheTokens = probe.Tokenizer.Encode(TinyCheckpoint.Prompt).Length + 4 };
        using var replicas = EngineReplicas.Load(checkpoint.Path, replicas: 2, options: options);
        for (int wave = 0; wave < 3; wave++)
        {
            var actual = await Task.WhenAll(requests.Select(r => replicas.CompleteAsync(r)));
            for (int i = 0; i < requests.Length; i++) CompletionAssert.Same(expected[i], actual[i]);
        }
        Assert.True(replicas.PrefixCacheStats.ReusedTokens > 0);
        Assert.True(replicas.PrefixCacheStats.CachedTokens <= options.PrefixCacheTokens);
    }

    [Fact]
    public void TheAutomaticCountIsOnePerWorkerUpToOnePerCoreForASmallModelOnACpu()
    {
        const long small = 3_300_000, large = EngineReplicas.SmallModelWeights + 1;
        Assert.Equal(1, EngineReplicas.AutoCount(1, TorchSharp.torch.CPU, small));
        Assert.Equal(Math.Min(4, Environment.ProcessorCount), EngineReplicas.AutoCount(4, null, small));
        Assert.Equal(Environment.ProcessorCount, EngineReplicas.AutoCount(1000, TorchSharp.torch.CPU, small));
        Assert.Equal(1, EngineReplicas.AutoCount(4, TorchSharp.torch.CPU, large));
        Assert.Equal(1, EngineReplicas.AutoCount(4, new TorchSharp.torch.Device(TorchSharp.DeviceType.CUDA), small));
        Assert.Throws<ArgumentOutOfRangeException>(() => EngineReplicas.Load(checkpoint.Path, replicas: 0));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AConfigsMatrixWeightsAreTheModelsParametersLessItsNorms(bool tied)
    {
        // Llama without biases: every parameter is a matrix but the 2 norms per layer and the final one.
        using var model = Models.TinyModels.Create(Models.TinyModels.Config(tied: tied), seed: 1);
        var c = model.Config;
        Assert.Equal(model.ParameterCount() - (2L * c.NumHiddenLayers + 1) * c.HiddenSize, c.MatrixWeights);
    }
}
