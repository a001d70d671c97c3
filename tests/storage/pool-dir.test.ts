// The dir driver passes the same behaviour tests as btrfs.
import { definePoolBehaviourTests } from "./pool-behaviour.js";

definePoolBehaviourTests("dir");
