using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Reasoner.Search;

/// <summary>
/// The seed of each model request, a hash of what the request is for: the tree's seed, the problem, the node and
/// the purpose ("propose", "rollout"). Nothing depends on the order in which requests are made or finish, so
/// concurrent requests and a resumed run sample exactly what a sequential run samples.
/// </summary>
internal static class RequestSeeds
{
    public const string Propose = "propose";
    public const string Rollout = "rollout";

    public static long For(long treeSeed, string problemId, int nodeId, string purpose)
    {
        var hash = new XxHash64();
        Span<byte> number = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(number, treeSeed);
        hash.Append(number);
        hash.Append(Encoding.UTF8.GetBytes(problemId));
        BinaryPrimitives.WriteInt64LittleEndian(number, nodeId);
        hash.Append(number);
        hash.Append(Encoding.UTF8.GetBytes(purpose));
        // Non-negative: some backends take the seed as a signed 64-bit integer and reject negatives.
        return (long)(hash.GetCurrentHashAsUInt64() & long.MaxValue);
    }
}
