package schedule

// vMinMicroBatches is the fewest micro-batches a V schedule accepts.
func vMinMicroBatches(k Kind, p int) int { return 1 }

func (s *Schedule) buildV(k Kind) error { return errorf("schedule", "%s not implemented yet", k.describe()) }
