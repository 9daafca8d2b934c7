using FastSpool.Queue;

namespace FastSpool.Delivery.Scheduling;

/// <summary>The scheduler's per-message state.</summary>
public sealed partial class QueueManager
{
    /// <summary>The scheduler's view of a message in the queue: per recipient, the items of the current attempt not
    /// yet answered and the worst answer so far.</summary>
    private sealed class Tracked(QueuedMessage message)
    {
        public QueuedMessage Message { get; } = message;

        // One entry per recipient; a one-recipient message (most mail) keeps its entry inline, without an array.
        private RecipientProgress _single;
        private readonly RecipientProgress[]? _many = message.Recipients.Length > 1 ? new RecipientProgress[message.Recipients.Length] : null;

        public ref RecipientProgress Progress(int recipient)
        {
            if (_many is not null)
                return ref _many[recipient];
            ArgumentOutOfRangeException.ThrowIfNotEqual(recipient, 0);
            return ref _single;
        }

        /// <summary>Items handed to a transport and not answered yet (<c>*</c> in mailq).</summary>
        public int InFlight { get; set; }

        // What only held, deleted, deferred, noticed, moved or many-recipient messages need, apart: most messages are
        // delivered at once and never get it, so the object made for every accepted message stays small.
        private Uncommon? _uncommon;

        private Uncommon More => _uncommon ??= new Uncommon();

        public bool NoticeQueued
        {
            get => _uncommon?.NoticeQueued ?? false;
            set
            {
                if (value || _uncommon is not null)
                    More.NoticeQueued = value;
            }
        }

        /// <summary>Deleted by an admin with a notice: nothing more is tried, and each recipient still under way is
        /// bounced with this reply unless its attempt delivers it.</summary>
        public DeliveryReply? Deleted
        {
            get => _uncommon?.Deleted;
            set
            {
                if (value is not null || _uncommon is not null)
                    More.Deleted = value;
            }
        }

        /// <summary>Admin changes being recorded whose effect is not in memory yet: no copy forward meanwhile.</summary>
        public int PendingControl
        {
            get => _uncommon?.PendingControl ?? 0;
            set
            {
                if (value != 0 || _uncommon is not null)
                    More.PendingControl = value;
            }
        }

        /// <summary>Being copied forward in the log: no delivery starts until the copy is in place.</summary>
        public bool Moving
        {
            get => _uncommon?.Moving ?? false;
            set
            {
                if (value || _uncommon is not null)
                    More.Moving = value;
            }
        }

        /// <summary>When the retry timer brings the message back; MaxValue when it is not waiting.</summary>
        public DateTimeOffset WaitingUntil
        {
            get => _uncommon?.WaitingUntil ?? DateTimeOffset.MaxValue;
            set
            {
                if (value != DateTimeOffset.MaxValue || _uncommon is not null)
                    More.WaitingUntil = value;
            }
        }

        public bool Claim(string part)
        {
            if (Message.Recipients.Length == 1)
                return true;
            List<string> claims = More.Claims ??= [];
            if (claims.Contains(part))
                return false;
            claims.Add(part);
            return true;
        }

        public void Unclaim(string part) => _uncommon?.Claims?.Remove(part);

        /// <summary>Items queued or in flight: the message is not settled.</summary>
        public bool Busy
        {
            get
            {
                for (int r = 0; r < Message.Recipients.Length; r++)
                {
                    if (Progress(r).Outstanding > 0)
                        return true;
                }
                return false;
            }
        }
    }

    /// <summary>A tracked message's state that most messages never need.</summary>
    private sealed class Uncommon
    {
        public bool NoticeQueued;
        public DeliveryReply? Deleted;
        public int PendingControl;
        public bool Moving;
        public DateTimeOffset WaitingUntil = DateTimeOffset.MaxValue;

        // Parts queued or in flight for some recipient of the message (only messages with several recipients can
        // reach the same part twice).
        public List<string>? Claims;
    }
}
