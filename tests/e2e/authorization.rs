//! Authorization matrix: every domain mutation and by-id read, for every kind of actor.
